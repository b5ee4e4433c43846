using ILGPU;
using ILGPU.Runtime;

namespace ConvService.Gpu;

/// <summary>What one launch computes: the geometry of <c>ConvolutionGeometry</c> and the boundary rule, by value.</summary>
/// <remarks>Plain ints and a double: ILGPU passes kernel parameters by value to the device.</remarks>
internal struct GpuGeometry
{
    public int ImageRows, ImageCols, KernelRows, KernelCols;
    public int OriginY, OriginX, StrideY, StrideX, OutputRows, OutputCols;
    public int KernelCount;
    /// <summary>0 fill, 1 wrap, 2 symm (the values of <c>BoundaryMode</c>).</summary>
    public int Boundary;
    public double FillValue;
}

/// <summary>
/// The device code: one thread per kept output pixel, computing that pixel for every kernel of the bank, so the
/// image neighbourhood is read once per bank (from the device's caches) rather than once per kernel.
/// </summary>
/// <remarks>
/// The sum runs over the taps in the naive loop's order (kernel row, then column), so on ILGPU's CPU accelerator
/// the result is the naive loop's bit for bit; a GPU compiler may contract multiply-adds into FMAs, which changes
/// the last bits (measured and documented in docs/performance.md, bounded at 1e-12 relative by the tests' tolerance).
/// </remarks>
internal static class GpuConvolutionKernel
{
    /// <summary><paramref name="pixel"/>.X is the output column (the fastest index, so neighbouring threads read neighbouring pixels), .Y the row.</summary>
    public static void Run(Index2D pixel, ArrayView1D<double, Stride1D.Dense> image, ArrayView1D<double, Stride1D.Dense> kernels,
        ArrayView1D<double, Stride1D.Dense> outputs, GpuGeometry g)
    {
        int col = pixel.X, row = pixel.Y;
        int y = g.OriginY + row * g.StrideY;
        int x = g.OriginX + col * g.StrideX;
        int taps = g.KernelRows * g.KernelCols;
        long plane = (long)g.OutputRows * g.OutputCols;
        for (int b = 0; b < g.KernelCount; b++)
        {
            double sum = 0;
            for (int k = 0; k < g.KernelRows; k++)
            {
                int r = Resolve(y - k, g.ImageRows, g.Boundary);
                for (int l = 0; l < g.KernelCols; l++)
                {
                    int c = Resolve(x - l, g.ImageCols, g.Boundary);
                    double value = r >= 0 && c >= 0 ? image[(long)r * g.ImageCols + c] : g.FillValue;
                    sum += kernels[b * taps + k * g.KernelCols + l] * value;
                }
            }
            outputs[b * plane + (long)row * g.OutputCols + col] = sum;
        }
    }

    /// <summary>scipy's boundary rule for one index (as <c>BoundaryIndex.Resolve</c>): the index inside, or −1 for fill outside.</summary>
    private static int Resolve(int index, int size, int boundary)
    {
        if ((uint)index < (uint)size) return index;
        if (boundary == 1)
        {
            int t = index % size;
            return t < 0 ? t + size : t;
        }
        if (boundary == 2)
        {
            int period = 2 * size;
            int t = index % period;
            if (t < 0) t += period;
            return t < size ? t : period - 1 - t;
        }
        return -1;
    }
}
