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

    /// <summary>The stored boundary for scipy's <paramref name="boundary"/>.</summary>
    public static ConvolutionBoundary ToBoundary(BoundaryMode boundary) => boundary switch
    {
        BoundaryMode.Fill => ConvolutionBoundary.Fill,
        BoundaryMode.Wrap => ConvolutionBoundary.Wrap,
        _ => ConvolutionBoundary.Symm,
    };

    /// <summary>The stored boundary for astropy's <paramref name="boundary"/>.</summary>
    public static ConvolutionBoundary ToBoundary(AstropyBoundary boundary) => boundary switch
    {
        AstropyBoundary.Fill => ConvolutionBoundary.Fill,
        AstropyBoundary.Wrap => ConvolutionBoundary.Wrap,
        _ => ConvolutionBoundary.Extend,
    };

    /// <summary>
    /// Core options for a normalized request, with the concrete method chosen at submission. The request was checked when
    /// it was accepted, so a boundary without a counterpart (symm with nanTreatment, extend without) is a stored record
    /// this version did not write.
    /// </summary>
    public static ConvolutionOptions ToCoreOptions(NormalizedConvolution request, ConvolutionMethod method) => request.NanTreatment is { } nan
        ? new(ConvolutionMode.Same, BoundaryMode.Fill, request.FillValue, request.Stride[0], request.Stride[1], method, request.Threads,
            new NanAwareOptions(nan, request.NormalizeKernel ?? true, request.PreserveNan ?? false, request.Boundary switch
            {
                ConvolutionBoundary.Fill => AstropyBoundary.Fill,
                ConvolutionBoundary.Wrap => AstropyBoundary.Wrap,
                ConvolutionBoundary.Extend => AstropyBoundary.Extend,
                _ => throw new InvalidOperationException($"Boundary {request.Boundary} has no astropy counterpart."),
            }))
        : new(request.Mode, request.Boundary switch
        {
            ConvolutionBoundary.Fill => BoundaryMode.Fill,
            ConvolutionBoundary.Wrap => BoundaryMode.Wrap,
            ConvolutionBoundary.Symm => BoundaryMode.Symm,
            _ => throw new InvalidOperationException($"Boundary {request.Boundary} is astropy's; scipy's convolve2d has fill, wrap and symm."),
        }, request.FillValue, request.Stride[0], request.Stride[1], method, request.Threads, Operation: request.Operation ?? ConvolutionOperation.Convolve);

    private static RequestRefusedException Invalid(string field, string value, string allowed) =>
        RequestRefusedException.Invalid($"Unknown {field} '{value}': use {allowed}.");
}
