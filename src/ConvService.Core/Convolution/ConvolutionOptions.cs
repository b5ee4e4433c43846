namespace ConvService.Core.Convolution;

/// <summary>Output size, as <c>scipy.signal.convolve2d</c>'s <c>mode</c>.</summary>
public enum ConvolutionMode
{
    /// <summary>The full discrete linear convolution: (M+P-1) × (N+Q-1).</summary>
    Full,
    /// <summary>Same size as the first input, centred on the full output.</summary>
    Same,
    /// <summary>Only outputs that need no padding: (M-P+1) × (N-Q+1); scipy swaps the inputs if the first is smaller.</summary>
    Valid,
}

/// <summary>How pixels outside the image are read, as <c>scipy.signal.convolve2d</c>'s <c>boundary</c>.</summary>
public enum BoundaryMode
{
    /// <summary>Pad with <see cref="ConvolutionOptions.FillValue"/>.</summary>
    Fill,
    /// <summary>Circular (periodic) boundary.</summary>
    Wrap,
    /// <summary>Symmetric reflection including the edge pixel (scipy's <c>symm</c>).</summary>
    Symm,
}

/// <summary>Which operation is computed: <c>scipy.signal.convolve2d</c> or <c>scipy.signal.correlate2d</c>.</summary>
public enum ConvolutionOperation
{
    /// <summary><c>scipy.signal.convolve2d</c>: the kernel is flipped.</summary>
    Convolve,
    /// <summary>
    /// <c>scipy.signal.correlate2d</c> (template matching): the kernel is not flipped. Computed as a convolution with the
    /// kernel rotated by 180° and, in <c>same</c> mode, scipy's correlation centring (offset ⌈(P−1)/2⌉ instead of ⌊(P−1)/2⌋).
    /// </summary>
    Correlate,
}

/// <summary>Which implementation computes the convolution.</summary>
public enum ConvolutionMethod
{
    /// <summary>Pick the fastest available method for the shapes at hand.</summary>
    Auto,
    /// <summary>Direct summation, vectorised.</summary>
    Direct,
    /// <summary>Fast Fourier transform: any mode, boundary and stride; refuses a non-finite fill value or inputs containing NaN/±∞.</summary>
    Fft,
    /// <summary>The deliberately simple reference loop: the oracle every fast path is tested against.</summary>
    Naive,
    /// <summary>
    /// The direct method on a GPU (ConvService.Gpu, ILGPU). Not run by <see cref="Convolver"/>, which has no device:
    /// the service routes it to a node that has one.
    /// </summary>
    Gpu,
}

/// <summary>
/// Options for <see cref="Convolver.Convolve2D(Arrays.Array2D, Arrays.Array2D, ConvolutionOptions, CancellationToken)"/>: the result equals
/// <c>scipy.signal.convolve2d(image, kernel, mode, boundary, fillvalue)[::StrideY, ::StrideX]</c>.
/// </summary>
/// <param name="Mode">Output size.</param>
/// <param name="Boundary">Boundary handling.</param>
/// <param name="FillValue">Padding value for <see cref="BoundaryMode.Fill"/>.</param>
/// <param name="StrideY">Keep every StrideY-th output row (≥ 1).</param>
/// <param name="StrideX">Keep every StrideX-th output column (≥ 1).</param>
/// <param name="Method">Implementation to use.</param>
/// <param name="Threads">Threads one convolution may use (row bands); 1 = the calling thread only.</param>
/// <param name="NanAware">
/// When set, the result is <c>astropy.convolution.convolve</c>'s NaN-aware convolution instead of scipy's (mode must be
/// same; <see cref="Boundary"/> is replaced by <see cref="NanAwareOptions.Boundary"/>); see <see cref="NanAwareConvolution"/>.
/// </param>
/// <param name="Operation">Convolution (scipy's <c>convolve2d</c>, the default) or correlation (<c>correlate2d</c>).</param>
public readonly record struct ConvolutionOptions(
    ConvolutionMode Mode = ConvolutionMode.Full,
    BoundaryMode Boundary = BoundaryMode.Fill,
    double FillValue = 0.0,
    int StrideY = 1,
    int StrideX = 1,
    ConvolutionMethod Method = ConvolutionMethod.Auto,
    int Threads = 1,
    NanAwareOptions? NanAware = null,
    ConvolutionOperation Operation = ConvolutionOperation.Convolve)
{
    /// <summary>scipy's defaults: full, fill, 0, no stride, automatic method.</summary>
    // Not `new()`: on a struct that is the all-zero value (stride 0, 0 threads), not the primary constructor's defaults.
    public static ConvolutionOptions Default => new(Mode: ConvolutionMode.Full);
}
