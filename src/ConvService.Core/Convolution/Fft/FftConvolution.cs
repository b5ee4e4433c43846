using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution.Fft;

/// <summary>
/// Convolution by FFT, for any mode, boundary and stride, with results within ~1e-13 of the direct sum
/// (relative to the output's largest magnitude) for finite inputs.
/// </summary>
/// <remarks>
/// <para><b>Boundaries.</b> Fill with value f: the fill-extended image equals (image − f) zero-extended plus the
/// constant f everywhere, and a constant convolves to f·Σkernel, so we transform image − f and add f·Σkernel: the
/// transform stays as small as a zero-fill one. Wrap/symm: the image is extended explicitly over exactly the
/// rows and columns the kept outputs read, and the kept outputs are the "valid" part of that.</para>
/// <para><b>Sizes.</b> A length-L circular convolution equals the linear one at index y when no alias lands there:
/// y &lt; L and y ≥ (Ms + P − 1) − L. So L is the smallest 5-smooth number covering the kept rows, not
/// necessarily the full Ms + P − 1 ('valid' needs only L ≥ Ms).</para>
/// <para><b>Passes.</b> Real rows are transformed two at a time as one complex FFT (a + ib) and split by
/// Hermitian symmetry into half spectra (L/2 + 1 bins). Columns are processed in blocks of four bins: gather
/// the kernel's and the image's block, transform both, multiply, transform back, keep only the rows the stride
/// keeps. The inverse row pass runs only for kept rows, again two at a time, and reads only kept columns.</para>
/// </remarks>
internal static unsafe class FftConvolution
{
    private const int ColumnBlock = 4; // complex bins per column block: one 64-byte line of each spectrum row
    private const int RowChunk = 16;   // row pairs per cancellation / parallel work item

    /// <summary>The transform sizes <see cref="Run"/> would use, for the cost model.</summary>
    public static (int Ly, int Lx) TransformSize(in ConvolutionGeometry g, BoundaryMode boundary)
    {
        var s = Source.Describe(g, boundary);
        return (Length(s.Rows, g.KernelRows, s.Y0, s.Y0 + (long)(g.OutputRows - 1) * g.StrideY),
                Length(s.Cols, g.KernelCols, s.X0, s.X0 + (long)(g.OutputCols - 1) * g.StrideX));
    }

    /// <summary>
    /// The bytes <see cref="Run"/> holds at its peak besides the inputs and the output: the image's half spectrum
    /// (the largest part: rows × (L/2 + 1) complex values), the kernel's, the explicit extension for wrap/symm, and
    /// per thread one row-pair buffer and one column block. Limits check it before a job is queued, because a long
    /// kernel makes the transform L ≥ M + P − 1 wide whatever the image is (a 1×1,000,000 kernel: 16 GB of spectrum
    /// for 2000 rows).
    /// </summary>
    public static long WorkingBytes(in ConvolutionGeometry g, BoundaryMode boundary, int threads)
    {
        if (g.OutputLength == 0 || g.KernelRows == 0 || g.KernelCols == 0) return 0;
        var s = Source.Describe(g, boundary);
        var (ly, lx) = TransformSize(g, boundary);
        long h = lx / 2 + 1;
        long specRows = Math.Max(s.Rows, g.OutputRows);
        long doubles = specRows * 2 * h + (long)g.KernelRows * 2 * h + (s.Extended ? (long)s.Rows * s.Cols : 0)
            + Math.Max(1, threads) * (4L * lx + 3L * 2 * ly * ColumnBlock);
        return doubles * sizeof(double);
    }

    private static int Length(int sourceLength, int kernelLength, long first, long last)
    {
        long need = Math.Max(Math.Max(sourceLength, kernelLength), Math.Max(last + 1, (long)sourceLength + kernelLength - 1 - first));
        return ComplexFft.NextFastLength(checked((int)need));
    }

    /// <summary>What is transformed: the image (fill) or its explicit extension (wrap/symm), and where kept output 0 sits.</summary>
    private readonly record struct Source(int Rows, int Cols, int Y0, int X0, bool Extended)
    {
        public static Source Describe(in ConvolutionGeometry g, BoundaryMode boundary) =>
            boundary == BoundaryMode.Fill
                ? new Source(g.ImageRows, g.ImageCols, g.OriginY, g.OriginX, false)
                : new Source(checked((g.OutputRows - 1) * g.StrideY + g.KernelRows), checked((g.OutputCols - 1) * g.StrideX + g.KernelCols),
                    g.KernelRows - 1, g.KernelCols - 1, true);
    }

    /// <summary>True when every value is finite: one NaN or ∞ would spread over the whole FFT result.</summary>
    public static bool AllFinite(ReadOnlySpan<double> values)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // x − x is 0 for finite x and NaN for NaN/±∞; NaN survives the sum.
            var acc = Vector256<double>.Zero;
            ref double r = ref MemoryMarshal.GetReference(values);
            for (; i + 4 <= values.Length; i += 4)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                acc += v - v;
            }
            if (!Vector256.EqualsAll(acc, Vector256<double>.Zero)) return false;
        }
        for (; i < values.Length; i++)
            if (!double.IsFinite(values[i])) return false;
        return true;
    }

    /// <summary>Computes every kept output of <paramref name="g"/> into <paramref name="output"/>.</summary>
    public static void Run(Array2D image, Array2D kernel, in ConvolutionGeometry g, in ConvolutionOptions options, Array2D output,
        CancellationToken cancellationToken)
    {
        var src = Source.Describe(g, options.Boundary);
        int p = g.KernelRows, q = g.KernelCols;
        var (ly, lx) = TransformSize(g, options.Boundary);
        int h = lx / 2 + 1;
        double fill = src.Extended ? 0.0 : options.FillValue;
        double constant = 0;
        if (fill != 0)
            foreach (double k in kernel.Data) constant += k;
        constant *= fill;

        double[]? extended = src.Extended ? ArrayPool<double>.Shared.Rent(Math.Max(1, checked(src.Rows * src.Cols))) : null;

        var rowFft = ComplexFft.For(lx);
        var colFft = ComplexFft.For(ly);
        int specRows = Math.Max(src.Rows, g.OutputRows);
        double[] spectrum = ArrayPool<double>.Shared.Rent(checked(specRows * 2 * h));
        double[] kernelSpectrum = ArrayPool<double>.Shared.Rent(Math.Max(1, checked(p * 2 * h)));
        try
        {
            fixed (double* spec = spectrum)
            fixed (double* kspec = kernelSpectrum)
            fixed (double* ext = extended)
            fixed (double* img = image.Data)
            fixed (double* ker = kernel.Data)
            fixed (double* outp = output.Data)
            {
                var c = new Context
                {
                    Spec = spec, KSpec = kspec, H = h, Lx = lx, Ly = ly, RowFft = rowFft, ColFft = colFft,
                    Threads = options.Threads, Token = cancellationToken,
                };
                double* srcData = img;
                if (src.Extended)
                {
                    BoundaryIndex.ExtendRegion(image, g.OriginY - (g.KernelRows - 1), g.OriginX - (g.KernelCols - 1), src.Rows, src.Cols, options.Boundary, 0.0, ext, src.Cols);
                    srcData = ext;
                }
                ForwardRows(c, srcData, src.Rows, src.Cols, fill, spec);
                ForwardRows(c, ker, p, q, 0.0, kspec);
                Columns(c, src.Rows, p, src.Y0, g.StrideY, g.OutputRows);
                InverseRows(c, g.OutputRows, g.OutputCols, src.X0, g.StrideX, 1.0 / ((double)lx * ly), constant, outp);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(spectrum);
            ArrayPool<double>.Shared.Return(kernelSpectrum);
            if (extended is not null) ArrayPool<double>.Shared.Return(extended);
        }
    }

    private sealed class Context
    {
        public double* Spec, KSpec;
        public int H, Lx, Ly, Threads;
        public ComplexFft RowFft = null!, ColFft = null!;
        public CancellationToken Token;
    }

    /// <summary>Half spectra (h bins) of <paramref name="rows"/> real rows (values − <paramref name="subtract"/>), two rows per complex FFT.</summary>
    private static void ForwardRows(Context c, double* data, int rows, int cols, double subtract, double* spec)
    {
        int lx = c.Lx, h = c.H;
        ForRowPairs(c, rows, (r0, second, z, work) =>
        {
            double* a = data + (long)r0 * cols;
            double* b = a + cols;
            for (int t = 0; t < cols; t++)
            {
                z[2 * t] = a[t] - subtract;
                z[2 * t + 1] = second ? b[t] - subtract : 0.0;
            }
            new Span<double>(z + 2 * cols, 2 * (lx - cols)).Clear();
            c.RowFft.Forward(z, work, 1);
            double* sa = spec + (long)r0 * 2 * h;
            double* sb = sa + 2 * h;
            for (int k = 0; k < h; k++)
            {
                int nk = k == 0 ? 0 : lx - k;
                double zr = z[2 * k], zi = z[2 * k + 1], wr = z[2 * nk], wi = z[2 * nk + 1];
                // A = (Z[k] + conj Z[-k]) / 2, B = (Z[k] − conj Z[-k]) / 2i
                sa[2 * k] = 0.5 * (zr + wr);
                sa[2 * k + 1] = 0.5 * (zi - wi);
                if (second)
                {
                    sb[2 * k] = 0.5 * (zi + wi);
                    sb[2 * k + 1] = -0.5 * (zr - wr);
                }
            }
        });
    }

    /// <summary>One pair of rows (<paramref name="r0"/> and, when <paramref name="second"/>, r0 + 1) in a 2·Lx complex buffer with its work space.</summary>
    private delegate void RowPairBody(int r0, bool second, double* z, double* work);

    /// <summary>
    /// Runs <paramref name="body"/> for every pair of <paramref name="rows"/> rows, in chunks of <see cref="RowChunk"/>
    /// pairs (the unit of cancellation and of parallelism), each chunk with one pooled, pinned complex buffer.
    /// </summary>
    private static void ForRowPairs(Context c, int rows, RowPairBody body)
    {
        int pairs = (rows + 1) / 2;
        int lx = c.Lx;
        RowBands.ForEach((pairs + RowChunk - 1) / RowChunk, c.Threads, c.Token, chunk =>
        {
            double[] buffer = ArrayPool<double>.Shared.Rent(4 * lx);
            try
            {
                fixed (double* z = buffer)
                {
                    int end = Math.Min(pairs, (chunk + 1) * RowChunk);
                    for (int pair = chunk * RowChunk; pair < end; pair++)
                        body(2 * pair, 2 * pair + 1 < rows, z, z + 2 * lx);
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(buffer);
            }
        });
    }

    /// <summary>
    /// Column pass over blocks of bins: transform the kernel's and the image's columns, multiply, transform back,
    /// and write the kept rows (y0 + i·sy) to spectrum rows i.
    /// </summary>
    private static void Columns(Context c, int srcRows, int kernelRows, int y0, int sy, int keptRows)
    {
        int h = c.H, ly = c.Ly;
        int blocks = (h + ColumnBlock - 1) / ColumnBlock;
        RowBands.ForEach(blocks, c.Threads, c.Token, block =>
        {
            int c0 = block * ColumnBlock, width = Math.Min(ColumnBlock, h - c0);
            long blockDoubles = 2L * ly * width;
            double[] buffer = ArrayPool<double>.Shared.Rent(checked((int)(3 * blockDoubles)));
            try
            {
                fixed (double* kb = buffer)
                {
                    double* ib = kb + blockDoubles, work = ib + blockDoubles;
                    Gather(c.KSpec, kernelRows, h, c0, width, ly, kb);
                    Gather(c.Spec, srcRows, h, c0, width, ly, ib);
                    c.ColFft.Forward(kb, work, width);
                    c.ColFft.Forward(ib, work, width);
                    MultiplyInPlace(ib, kb, blockDoubles);
                    c.ColFft.Inverse(ib, work, width);
                    for (int i = 0; i < keptRows; i++)
                    {
                        double* from = ib + 2L * (y0 + (long)i * sy) * width;
                        double* to = c.Spec + 2L * i * h + 2 * c0;
                        for (int t = 0; t < 2 * width; t++) to[t] = from[t];
                    }
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(buffer);
            }
        });
    }

    private static void Gather(double* spec, int rows, int h, int c0, int width, int ly, double* block)
    {
        for (int y = 0; y < rows; y++)
        {
            double* from = spec + 2L * y * h + 2 * c0;
            double* to = block + 2L * y * width;
            for (int t = 0; t < 2 * width; t++) to[t] = from[t];
        }
        new Span<double>(block + 2L * rows * width, checked((int)(2L * (ly - rows) * width))).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyInPlace(double* a, double* b, long doubles)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var sign = Vector256.Create(-1.0, 1.0, -1.0, 1.0);
            for (; i + 4 <= doubles; i += 4)
            {
                var x = Vector256.Load(a + i);
                var y = Vector256.Load(b + i);
                var yr = Vector256.Shuffle(y, Vector256.Create(0L, 0L, 2L, 2L));
                var yi = Vector256.Shuffle(y, Vector256.Create(1L, 1L, 3L, 3L));
                var xs = Vector256.Shuffle(x, Vector256.Create(1L, 0L, 3L, 2L));
                (x * yr + xs * yi * sign).Store(a + i);
            }
        }
        for (; i < doubles; i += 2)
        {
            double xr = a[i], xi = a[i + 1], yr = b[i], yi = b[i + 1];
            a[i] = xr * yr - xi * yi;
            a[i + 1] = xr * yi + xi * yr;
        }
    }

    /// <summary>Inverse row transforms of the kept rows, two per complex FFT, sampling the kept columns.</summary>
    private static void InverseRows(Context c, int keptRows, int keptCols, int x0, int sx, double scale, double constant, double* outp)
    {
        int lx = c.Lx, h = c.H;
        ForRowPairs(c, keptRows, (i0, second, z, work) =>
        {
            double* sa = c.Spec + 2L * i0 * h;
            double* sb = sa + 2 * h;
            // Z = A + iB over all bins, with A[-k] = conj A[k] (and B likewise) filling the upper half.
            for (int k = 0; k < h; k++)
            {
                double ar = sa[2 * k], ai = sa[2 * k + 1];
                double br = second ? sb[2 * k] : 0.0, bi = second ? sb[2 * k + 1] : 0.0;
                z[2 * k] = ar - bi;
                z[2 * k + 1] = ai + br;
                int nk = lx - k;
                if (k > 0 && nk >= h)
                {
                    z[2 * nk] = ar + bi;
                    z[2 * nk + 1] = -ai + br;
                }
            }
            c.RowFft.Inverse(z, work, 1);
            double* o0 = outp + (long)i0 * keptCols;
            double* o1 = o0 + keptCols;
            for (int j = 0; j < keptCols; j++)
            {
                long x = x0 + (long)j * sx;
                o0[j] = z[2 * x] * scale + constant;
                if (second) o1[j] = z[2 * x + 1] * scale + constant;
            }
        });
    }
}
