using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>How NaN pixels (masked data) are treated, as <c>astropy.convolution.convolve</c>'s <c>nan_treatment</c>.</summary>
public enum NanTreatment
{
    /// <summary>Ignore NaN pixels and renormalise the kernel over the valid ones: NaNs are filled from their neighbours.</summary>
    Interpolate,
    /// <summary>Replace NaN pixels with the fill value before convolving.</summary>
    Fill,
}

/// <summary>Pixels outside the image, as astropy's <c>boundary</c> (its <c>None</c> is not offered).</summary>
public enum AstropyBoundary
{
    /// <summary>Pad with the fill value (astropy's default, 'fill').</summary>
    Fill,
    /// <summary>Periodic ('wrap').</summary>
    Wrap,
    /// <summary>Repeat the nearest edge pixel ('extend').</summary>
    Extend,
}

/// <summary>
/// Options of the NaN-aware convolution; with them set on <see cref="ConvolutionOptions.NanAware"/>, the result is
/// <c>astropy.convolution.convolve(image, kernel, boundary, fill_value, nan_treatment, normalize_kernel,
/// preserve_nan=...)[::sy, ::sx]</c> instead of scipy's.
/// </summary>
/// <param name="Treatment">nan_treatment.</param>
/// <param name="NormalizeKernel">normalize_kernel (astropy's default true: the kernel is divided by its sum).</param>
/// <param name="PreserveNan">preserve_nan: pixels NaN in the input are NaN in the output.</param>
/// <param name="Boundary">boundary.</param>
public readonly record struct NanAwareOptions(
    NanTreatment Treatment = NanTreatment.Interpolate, bool NormalizeKernel = true, bool PreserveNan = false, AstropyBoundary Boundary = AstropyBoundary.Fill);

/// <summary>
/// <c>astropy.convolution.convolve</c> for 2-D arrays (astropy 5.x semantics), by direct summation in astropy's own
/// order: for every output pixel, Σ image·kernel over the (flipped) kernel window; with nan_treatment 'interpolate'
/// (and a NaN in the image) only over non-NaN pixels, divided by the sum of the kernel weights used — the
/// kernel renormalised over the valid pixels — and, where no weight was used, the pixel's own value.
/// </summary>
public static class NanAwareConvolution
{
    // astropy.convolution.core.MAX_NORMALIZATION: kernels summing to less than 1/100 cannot be normalised.
    private const double MinNormalizableSum = 1.0 / 100;

    /// <summary>Refuses, from the shapes alone, what astropy refuses: even kernel axes, a mode other than same.</summary>
    public static void ValidateShapes(int kernelRows, int kernelCols, in ConvolutionOptions options)
    {
        if (options.Mode != ConvolutionMode.Same)
            throw new ConvolutionRefusedException(
                $"NaN-aware convolution (astropy.convolution.convolve) returns the image's shape: use mode 'same' (or leave mode out), not '{options.Mode.ToString().ToLowerInvariant()}'.");
        if (kernelRows % 2 == 0 || kernelCols % 2 == 0)
            throw new ConvolutionRefusedException(
                $"NaN-aware convolution needs a kernel with odd sizes on both axes (astropy refuses even ones too), but the kernel is {kernelRows}×{kernelCols}. " +
                "Pad it with a row or column of zeros to make it odd.");
        if (options.Method == ConvolutionMethod.Fft)
            throw new ConvolutionRefusedException("NaN-aware convolution is computed by direct summation, as astropy's convolve is: use method 'auto' or 'direct', not 'fft'.");
    }

    /// <summary>
    /// Refuses a kernel astropy cannot normalise (sum below 1/100) when it must be: with normalizeKernel, or when
    /// interpolating over NaNs (<paramref name="imageHasNan"/>).
    /// </summary>
    public static void ValidateKernel(Array2D kernel, in NanAwareOptions options, bool imageHasNan)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        bool interpolates = options.Treatment == NanTreatment.Interpolate && imageHasNan;
        if (!options.NormalizeKernel && !interpolates) return;
        double sum = Sum(kernel.Span);
        if (sum < MinNormalizableSum)
            throw new ConvolutionRefusedException(interpolates && !options.NormalizeKernel
                ? $"nanTreatment 'interpolate' renormalises the kernel over the valid pixels, but the kernel sums to {sum:G6} (below 0.01, astropy's limit). For a zero-sum kernel and data with NaNs, use nanTreatment 'fill'."
                : $"normalizeKernel divides the kernel by its sum, but the kernel sums to {sum:G6} (below 0.01, astropy's limit). Send normalizeKernel false, or a kernel with a positive sum.");
    }

    /// <summary>True when astropy would interpolate: the image's sum is NaN (a NaN, or both +∞ and −∞).</summary>
    public static bool HasNan(ReadOnlySpan<double> values)
    {
        bool plus = false, minus = false;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) return true;
            plus |= double.IsPositiveInfinity(v);
            minus |= double.IsNegativeInfinity(v);
        }
        return plus && minus;
    }

    /// <summary>Computes into <paramref name="output"/>, whose shape is the image's after the stride.</summary>
    /// <exception cref="ConvolutionRefusedException">What astropy refuses.</exception>
    public static void Run(Array2D image, Array2D kernel, in ConvolutionOptions options, Array2D output, CancellationToken cancellationToken)
    {
        var nan = options.NanAware ?? throw new ArgumentException("NanAware options are not set.", nameof(options));
        ValidateShapes(kernel.Rows, kernel.Cols, options);
        bool interpolate = nan.Treatment == NanTreatment.Interpolate && HasNan(image.Span);
        ValidateKernel(kernel, nan, interpolate);
        double kernelSum = Sum(kernel.Span);
        var run = new Window(image, kernel, nan, options.FillValue, interpolate, kernelSum);
        int sy = options.StrideY, sx = options.StrideX;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = cancellationToken };
        Parallel.For(0, output.Rows, parallel, r =>
        {
            var row = output.Row(r);
            for (int c = 0; c < row.Length; c++) row[c] = run.At(r * sy, c * sx);
        });
    }

    /// <summary>numpy's sum for small arrays; the kernel sum only rescales, so order matters to an ulp at most.</summary>
    private static double Sum(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum;
    }

    private sealed class Window(Array2D image, Array2D kernel, NanAwareOptions nan, double fillValue, bool interpolate, double kernelSum)
    {
        private readonly int _wy = kernel.Rows / 2, _wx = kernel.Cols / 2;

        /// <summary>The image as astropy pads it: NaN → fill value first when nan_treatment is 'fill'.</summary>
        private double Read(int y, int x)
        {
            if ((uint)y >= (uint)image.Rows || (uint)x >= (uint)image.Cols)
            {
                switch (nan.Boundary)
                {
                    case AstropyBoundary.Fill: return fillValue;
                    case AstropyBoundary.Wrap:
                        y = Mod(y, image.Rows);
                        x = Mod(x, image.Cols);
                        break;
                    default:
                        y = Math.Clamp(y, 0, image.Rows - 1);
                        x = Math.Clamp(x, 0, image.Cols - 1);
                        break;
                }
            }
            double v = image.Data[(long)y * image.Cols + x];
            return nan.Treatment == NanTreatment.Fill && double.IsNaN(v) ? fillValue : v;
        }

        private static int Mod(int i, int n) => ((i % n) + n) % n;

        public double At(int i, int j)
        {
            double top = 0, bot = 0;
            int kr = kernel.Rows, kc = kernel.Cols;
            var k = kernel.Data;
            // astropy's loop: kernel rows outer, columns inner, the kernel flipped (a convolution, not a correlation).
            for (int ii = 0; ii < kr; ii++)
            {
                for (int jj = 0; jj < kc; jj++)
                {
                    double val = Read(i - _wy + ii, j - _wx + jj);
                    double ker = k[(kr - 1 - ii) * kc + (kc - 1 - jj)];
                    if (!interpolate) top += val * ker;
                    else if (!double.IsNaN(val))
                    {
                        top += val * ker;
                        bot += ker;
                    }
                }
            }
            double result = interpolate ? (bot == 0 ? Read(i, j) : top / bot) : top;
            if (nan.NormalizeKernel)
            {
                if (!interpolate) result /= kernelSum;
            }
            else if (interpolate)
            {
                result *= kernelSum;
            }
            return nan.PreserveNan && double.IsNaN(image[i, j]) ? double.NaN : result;
        }
    }
}
