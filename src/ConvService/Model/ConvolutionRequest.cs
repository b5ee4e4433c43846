namespace ConvService.Model;

/// <summary>
/// A convolution job: <c>scipy.signal.convolve2d(image, kernel, mode, boundary, fillValue)[::sy, ::sx]</c>.
/// Every field but image and kernel is optional.
/// </summary>
/// <param name="Image">The image: <c>{"data": [[...]]}</c>, <c>{"arrayId": "..."}</c> or <c>{"generate": {...}}</c>.</param>
/// <param name="Kernel">The kernel, in the same forms.</param>
/// <param name="Mode">full (default) | same | valid.</param>
/// <param name="Boundary">fill (default) | wrap | symm.</param>
/// <param name="FillValue">Padding value for boundary fill (default 0).</param>
/// <param name="Stride">1 (default), n, or [sy, sx]: keep every sy-th row and sx-th column of the output.</param>
/// <param name="Method">auto (default) | direct | fft | naive.</param>
/// <param name="Threads">Threads for this one convolution (row bands); default 1.</param>
/// <param name="NanTreatment">
/// Opt-in NaN-aware convolution with <c>astropy.convolution.convolve</c> semantics: interpolate (NaN pixels are
/// filled from their neighbours by the kernel renormalised over the valid pixels) | fill (NaN → fillValue first).
/// Then mode is same, boundary is fill | wrap | extend, and the kernel must have odd sizes.
/// </param>
/// <param name="NormalizeKernel">With nanTreatment: divide the kernel by its sum (astropy's default true).</param>
/// <param name="PreserveNan">With nanTreatment: pixels NaN in the image stay NaN in the result (default false).</param>
/// <param name="Kernels">
/// A filter bank instead of <c>kernel</c>: up to ConvService:Limits:MaxBankKernels kernels, all applied in one pass over the image,
/// one result each (the job's <c>results</c>). Their outputs must have one shape (one kernel size, or any sizes in mode same).
/// </param>
/// <param name="Operation">convolve (default, scipy.signal.convolve2d) | correlate (scipy.signal.correlate2d: the kernel is not flipped).</param>
public sealed record ConvolutionRequest(
    ArraySource? Image,
    ArraySource? Kernel,
    string? Mode = null,
    string? Boundary = null,
    double? FillValue = null,
    Stride? Stride = null,
    string? Method = null,
    int? Threads = null,
    string? NanTreatment = null,
    bool? NormalizeKernel = null,
    bool? PreserveNan = null,
    ArraySource[]? Kernels = null,
    string? Operation = null);

/// <summary>Where an input comes from: exactly one of <c>data</c>, <c>arrayId</c>, <c>generate</c>.</summary>
/// <param name="Data">Inline rows, all the same length.</param>
/// <param name="ArrayId">Id returned by <c>POST /arrays</c> (or a job result's arrayId).</param>
/// <param name="Generate">A seeded synthetic array.</param>
public sealed record ArraySource(double[][]? Data = null, string? ArrayId = null, GenerateSpec? Generate = null);
