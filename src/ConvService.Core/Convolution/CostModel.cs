using ConvService.Core.Convolution.Fft;

namespace ConvService.Core.Convolution;

/// <summary>
/// Single-thread time estimates for each method, in the spirit of scipy's <c>choose_conv_method</c>
/// (direct multiply–adds against FFT n·log n work), with constants measured on the reference machine.
/// </summary>
/// <remarks>
/// Calibration (AMD EPYC, AVX2+FMA, 2 vCPUs shared, .NET 10 Release, one thread; see bench/README.md):
/// CALIBRATION_NOTES
/// </remarks>
internal static class CostModel
{
    // Direct: multiply–adds at the vector kernels' rate, plus streaming the image rows the kept outputs read.
    internal const double DirectNsPerMultiplyAdd = 0.15;
    internal const double DirectNsPerInputByte = 0.07;
    internal const double DirectNsPerOutput = 1.0;
    // Naive: the scalar reference loop with a boundary check per tap.
    internal const double NaiveNsPerMultiplyAdd = 1.5;
    // FFT: per unit of complex-FFT work n·log2(n), plus per spectrum element (packing, multiply, gathers).
    internal const double FftNsPerButterflyUnit = 0.35;
    internal const double FftNsPerElement = 3.0;
    internal const double FftFixedMs = 0.05;

    public readonly record struct Costs(double DirectMs, double FftMs, double NaiveMs, int FftLy, int FftLx);

    public static Costs Estimate(in ConvolutionGeometry g, BoundaryMode boundary)
    {
        double macs = g.DirectMultiplyAdds;
        // Rows read: each kept output row reads P input rows, shared between neighbours when sy < P.
        double rowsRead = Math.Min((double)g.OutputRows * g.KernelRows, (double)g.OutputRows * g.StrideY + g.KernelRows);
        rowsRead = Math.Min(rowsRead, Math.Max(g.ImageRows, 1) * Math.Ceiling((double)g.OutputRows * g.KernelRows / Math.Max(g.ImageRows, 1)));
        double bytes = rowsRead * g.ImageCols * sizeof(double);
        double directMs = (macs * DirectNsPerMultiplyAdd + bytes * DirectNsPerInputByte + g.OutputLength * DirectNsPerOutput) * 1e-6;
        double naiveMs = macs * NaiveNsPerMultiplyAdd * 1e-6;

        double fftMs = double.PositiveInfinity;
        int ly = 0, lx = 0;
        if (g.OutputLength > 0 && g.KernelRows > 0 && g.KernelCols > 0)
        {
            (ly, lx) = FftConvolution.TransformSize(g, boundary);
            int h = lx / 2 + 1;
            int sourceRows = boundary == BoundaryMode.Fill ? g.ImageRows : (g.OutputRows - 1) * g.StrideY + g.KernelRows;
            double rowFfts = (sourceRows + 1) / 2 + (g.KernelRows + 1) / 2 + (g.OutputRows + 1) / 2;
            double units = rowFfts * lx * Math.Log2(Math.Max(lx, 2)) + 3.0 * h * ly * Math.Log2(Math.Max(ly, 2));
            double elements = (double)h * ly * 3 + (double)sourceRows * lx;
            fftMs = FftFixedMs + (units * FftNsPerButterflyUnit + elements * FftNsPerElement) * 1e-6;
        }
        return new Costs(directMs, fftMs, naiveMs, ly, lx);
    }
}
