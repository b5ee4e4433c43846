using ConvService.Core.Convolution;
using ConvService.Core.Generators;
using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>Maps the API's lower-case option words onto the Core's enums, with fix-it messages.</summary>
public static class RequestParsing
{
    /// <summary>Parses mode; null means the default (full).</summary>
    public static ConvolutionMode ParseMode(string? value) => value switch
    {
        null or "full" => ConvolutionMode.Full,
        "same" => ConvolutionMode.Same,
        "valid" => ConvolutionMode.Valid,
        _ => throw Invalid("mode", value, "full, same or valid"),
    };

    /// <summary>Parses boundary, accepting scipy's synonyms.</summary>
    public static BoundaryMode ParseBoundary(string? value) => value switch
    {
        null or "fill" or "pad" => BoundaryMode.Fill,
        "wrap" or "circular" => BoundaryMode.Wrap,
        "symm" or "symmetric" => BoundaryMode.Symm,
        "extend" => throw RequestRefusedException.Invalid(
            "boundary 'extend' is astropy's and applies with nanTreatment (astropy.convolution.convolve semantics); scipy's convolve2d has fill, wrap and symm."),
        _ => throw Invalid("boundary", value, "fill, wrap or symm (scipy's synonyms pad, circular, symmetric work too)"),
    };

    /// <summary>Parses method.</summary>
    public static ConvolutionMethod ParseMethod(string? value) => value switch
    {
        null or "auto" => ConvolutionMethod.Auto,
        "direct" => ConvolutionMethod.Direct,
        "fft" => ConvolutionMethod.Fft,
        "naive" => ConvolutionMethod.Naive,
        "gpu" => ConvolutionMethod.Gpu,
        _ => throw Invalid("method", value, "auto, direct, fft, naive or gpu"),
    };

    /// <summary>Parses operation; null means convolve.</summary>
    public static ConvolutionOperation ParseOperation(string? value) => value switch
    {
        null or "convolve" => ConvolutionOperation.Convolve,
        "correlate" => ConvolutionOperation.Correlate,
        _ => throw Invalid("operation", value, "convolve (scipy.signal.convolve2d) or correlate (scipy.signal.correlate2d)"),
    };

    /// <summary>Parses a generator fill.</summary>
    public static FillKind ParseFill(string? value) => value switch
    {
        null or "zeros" => FillKind.Zeros,
        "normal" => FillKind.Normal,
        "uniform" => FillKind.Uniform,
        _ => throw Invalid("generate.fill", value, "zeros, normal or uniform"),
    };

    /// <summary>The canonical word for a Core enum value.</summary>
    public static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>Parses nanTreatment (null: scipy's convolution, no NaN handling).</summary>
    public static NanTreatment? ParseNanTreatment(string? value) => value switch
    {
        null => null,
        "interpolate" => NanTreatment.Interpolate,
        "fill" => NanTreatment.Fill,
        _ => throw Invalid("nanTreatment", value, "interpolate or fill (astropy.convolution.convolve's nan_treatment)"),
    };

    /// <summary>Parses boundary for the NaN-aware convolution: astropy's words, and why the others are refused.</summary>
    public static AstropyBoundary ParseAstropyBoundary(string? value) => value switch
    {
        null or "fill" or "pad" => AstropyBoundary.Fill,
        "wrap" or "circular" => AstropyBoundary.Wrap,
        "extend" => AstropyBoundary.Extend,
        "symm" or "symmetric" => throw RequestRefusedException.Invalid(
            $"boundary '{value}' has no counterpart in astropy.convolution.convolve, which nanTreatment follows: use fill, wrap or extend (extend repeats the edge pixel)."),
        "none" => throw RequestRefusedException.Invalid(
            "astropy's boundary=None (zero wherever the kernel overhangs the edge) is not offered: use fill (with fillValue), wrap or extend."),
        _ => throw Invalid("boundary", value, "fill, wrap or extend with nanTreatment (astropy's boundary options)"),
    };

    /// <summary>Core options for a normalized request, with the concrete method chosen at submission.</summary>
    public static ConvolutionOptions ToCoreOptions(NormalizedConvolution request, string method) => ParseNanTreatment(request.NanTreatment) is { } nan
        ? new(ConvolutionMode.Same, BoundaryMode.Fill, request.FillValue, request.Stride[0], request.Stride[1], ParseMethod(method), request.Threads,
            new NanAwareOptions(nan, request.NormalizeKernel ?? true, request.PreserveNan ?? false, ParseAstropyBoundary(request.Boundary)))
        : new(ParseMode(request.Mode), ParseBoundary(request.Boundary), request.FillValue,
            request.Stride[0], request.Stride[1], ParseMethod(method), request.Threads, Operation: ParseOperation(request.Operation));

    private static RequestRefusedException Invalid(string field, string value, string allowed) =>
        RequestRefusedException.Invalid($"Unknown {field} '{value}': use {allowed}.");
}
