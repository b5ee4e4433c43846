namespace ConvService.Apis;

/// <summary>Example bodies, used in error messages and in the Swagger document.</summary>
public static class Examples
{
    /// <summary>A small inline convolution.</summary>
    public const string SmallConvolution =
        """{"image": {"data": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, "kernel": {"data": [[0, 1], [1, 0]]}, "mode": "same"}""";

    /// <summary>The IRSA tutorial's convolution: 3000×3000 image, 4×4 normal kernel, full mode, [::5, ::5].</summary>
    public const string TutorialConvolution =
        """{"image": {"generate": {"shape": [3000, 3000], "fill": "zeros", "seed": 0}}, "kernel": {"generate": {"shape": [4, 4], "fill": "normal", "seed": 1}}, "mode": "full", "boundary": "fill", "stride": [5, 5], "method": "auto"}""";

    /// <summary>The tutorial's benchmark with every default written out (2 filters shown; the default count is the processor count).</summary>
    public const string TutorialBenchmark =
        """{"image": {"shape": [3000, 3000], "fill": "zeros", "seed": 0}, "kernel": {"shape": [4, 4], "count": 2, "seed": 0}, "iterations": 100, "mode": "full", "boundary": "fill", "stride": [5, 5], "method": "auto", "strategies": ["serial", "parallel", "fused", "hangfire"], "repetitions": 3, "warmup": 1}""";

    /// <summary>
    /// A filter bank: the tutorial's image with four 4×4 filters in one pass over the image (one job, one result per filter in
    /// <c>results</c>; <c>GET /convolutions/{id}/results</c> gives them as one (4, 601, 601) .npy stack).
    /// </summary>
    public const string FilterBank =
        """{"image": {"generate": {"shape": [3000, 3000], "fill": "normal", "seed": 0}}, "kernels": [{"generate": {"shape": [4, 4], "fill": "normal", "seed": 1}}, {"generate": {"shape": [4, 4], "fill": "normal", "seed": 2}}, {"generate": {"shape": [4, 4], "fill": "normal", "seed": 3}}, {"generate": {"shape": [4, 4], "fill": "normal", "seed": 4}}], "mode": "full", "stride": [5, 5]}""";

    /// <summary>Template matching: <c>scipy.signal.correlate2d(image, template, mode='valid')</c> (the kernel is not flipped).</summary>
    public const string Correlation =
        """{"image": {"data": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]}, "kernel": {"data": [[6, 7], [10, 11]]}, "mode": "valid", "operation": "correlate"}""";

    /// <summary>
    /// NaN-aware smoothing as <c>astropy.convolution.convolve(image, kernel, boundary='extend')</c> does it: NaN pixels
    /// are interpolated from their neighbours by the normalised kernel instead of spreading NaN over the result. JSON has
    /// no NaN, so images with NaNs are uploaded as .npy or FITS and referenced by arrayId; this one has none.
    /// </summary>
    public const string NanAwareConvolution =
        """{"image": {"data": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]}, "kernel": {"data": [[1, 2, 1], [2, 4, 2], [1, 2, 1]]}, "nanTreatment": "interpolate", "normalizeKernel": true, "preserveNan": false, "boundary": "extend"}""";

    /// <summary>A JSON array upload.</summary>
    public const string ArrayUpload = """{"data": [[1, 2], [3, 4]]}""";
}
