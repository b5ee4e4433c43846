using ConvService.Core.Convolution.Fft;

namespace ConvService.Core.Convolution;

/// <summary>
/// Single-thread time estimates for each method, in the spirit of scipy's <c>choose_conv_method</c>
/// (direct multiply–adds against FFT n·log n work), with constants fitted on the reference machine.
/// </summary>
/// <remarks>
/// <para>Direct = multiply–adds at the kernel's rate + bytes of image rows streamed + a per-output cost (the
/// output write and, for strided outputs, the horizontal sum) + per output row and kernel row setup.
/// FFT = complex-FFT work Σ n·log2 n over the row and column passes + a per spectrum element cost (packing,
/// gathers, the pointwise product) + a fixed cost.</para>
/// <para>Calibration (AMD EPYC, AVX2+FMA, 2 vCPUs shared with other builds; Release, one thread, medians after
/// warm-up via the benchmark project's --compare mode):
/// the direct stride-1 terms from a 3000×3000 image with a 1×1 kernel (12 ms: reading and writing 72 MB) and a
/// 4×4 kernel (16.5 ms, 144 M multiply–adds); the strided terms from the tutorial case (≈4 ms for 57.6 MB of
/// rows read, 5.8 M multiply–adds) and 1000×1000 ⊛ 4×4 stride 5 in cache (0.25 ms); the FFT terms from
/// 2000×2000 ⊛ 65×65 (208 ms: 127 M butterfly units, 16 M spectrum elements). The lane kernel's rate for large
/// kernels was then set so that the crossover matches side-by-side runs of direct against fft on a 1000×1000
/// image (direct faster at 17×17, about equal at 25×25, fft 3× faster at 33×33). bench/calibrate.py repeats
/// such measurements on a grid and fits all constants by non-negative least squares; on this shared VM
/// (load average 6–24 while calibrating) its absolute fits were not stable, so the values above were set by
/// hand from the quieter runs. Only the crossover matters for <c>auto</c>; near it both methods cost about the
/// same.</para>
/// </remarks>
internal static class CostModel
{
    internal const double LaneNsPerMultiplyAdd = 0.06;    // stride 1: two output rows × 4 vectors per block
    internal const double DotNsPerMultiplyAdd = 0.09;     // stride > 1: W-wide dot products per output
    internal const double NsPerInputByte = 0.065;         // streaming image rows from DRAM (≈ 15 GB/s)
    internal const double LaneNsPerOutput = 0.75;         // writing the output
    internal const double DotNsPerOutput = 2.5;           // plus one horizontal add per output
    internal const double NsPerRowTap = 25;               // row pointers and edge copies per output row and kernel row
    internal const double DirectFixedMs = 0.002;
    internal const double NaiveNsPerMultiplyAdd = 1.5;    // the scalar reference loop with a boundary check per tap

    internal const double FftNsPerButterflyUnit = 1.2;
    internal const double FftNsPerElement = 2.5;
    internal const double FftFixedMs = 0.03;

    public readonly record struct Costs(double DirectMs, double FftMs, double NaiveMs, int FftLy, int FftLx);

    public static Costs Estimate(in ConvolutionGeometry g, BoundaryMode boundary)
    {
        var f = Features(g, boundary);
        bool lane = g.StrideX == 1;
        double directMs = DirectFixedMs + 1e-6 * (
            f.MultiplyAdds * (lane ? LaneNsPerMultiplyAdd : DotNsPerMultiplyAdd)
            + f.InputBytes * NsPerInputByte
            + g.OutputLength * (lane ? LaneNsPerOutput : DotNsPerOutput)
            + f.RowTaps * NsPerRowTap);
        double fftMs = f.FftUnits > 0
            ? FftFixedMs + 1e-6 * (f.FftUnits * FftNsPerButterflyUnit + f.FftElements * FftNsPerElement)
            : double.PositiveInfinity;
        return new Costs(directMs, fftMs, DirectFixedMs + f.MultiplyAdds * NaiveNsPerMultiplyAdd * 1e-6, f.Ly, f.Lx);
    }

    /// <summary>The model's inputs (bench/calibrate.py recomputes the same ones).</summary>
    internal readonly record struct Inputs(double MultiplyAdds, double InputBytes, double RowTaps, double FftUnits, double FftElements, int Ly, int Lx);

    internal static Inputs Features(in ConvolutionGeometry g, BoundaryMode boundary)
    {
        double macs = g.DirectMultiplyAdds;
        // Distinct input rows streamed: P per output row, shared between neighbours when the row stride < P.
        double rowsRead = Math.Max(0, Math.Min((double)g.OutputRows * g.KernelRows, (double)(g.OutputRows - 1) * g.StrideY + g.KernelRows));
        double bytes = rowsRead * g.ImageCols * sizeof(double);
        double rowTaps = (double)g.OutputRows * g.KernelRows;
        if (g.OutputLength == 0 || g.KernelRows == 0 || g.KernelCols == 0)
            return new Inputs(macs, bytes, rowTaps, 0, 0, 0, 0);

        var (ly, lx) = FftConvolution.TransformSize(g, boundary);
        int h = lx / 2 + 1;
        double sourceRows = boundary == BoundaryMode.Fill ? g.ImageRows : (double)(g.OutputRows - 1) * g.StrideY + g.KernelRows;
        double rowFfts = Math.Ceiling(sourceRows / 2) + (g.KernelRows + 1) / 2 + (g.OutputRows + 1) / 2;
        double units = rowFfts * lx * Math.Log2(Math.Max(lx, 2)) + 3.0 * h * ly * Math.Log2(Math.Max(ly, 2));
        double elements = 3.0 * h * ly + sourceRows * lx + (double)g.OutputRows * lx;
        return new Inputs(macs, bytes, rowTaps, units, elements, ly, lx);
    }
}
