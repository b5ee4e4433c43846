using System.Runtime.CompilerServices;
using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>Maps an index outside [0, size) onto the image the way scipy's boundary modes do.</summary>
public static class BoundaryIndex
{
    /// <summary>
    /// Rewrites <paramref name="index"/> for wrap/symm (any distance away, as numpy.pad does) and
    /// returns true when it then lies inside; for fill, returns false when it lies outside.
    /// </summary>
    public static bool Resolve(ref int index, int size, BoundaryMode boundary)
    {
        if ((uint)index < (uint)size) return true;
        switch (boundary)
        {
            case BoundaryMode.Wrap:
                index = Mod(index, size);
                return true;
            case BoundaryMode.Symm:
                // Symmetric reflection has period 2·size: … 1 0 | 0 1 … size-1 | size-1 size-2 …
                int t = Mod(index, 2 * size);
                index = t < size ? t : 2 * size - 1 - t;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// dst[t] = the value of image row <paramref name="row"/> (<paramref name="n"/> values) at column
    /// <paramref name="start"/> + t under the boundary rule (<paramref name="fillValue"/> outside, for fill), for
    /// t &lt; <paramref name="count"/>. Columns inside the row are copied in one block; only those beyond an edge go
    /// through <see cref="Resolve"/>. Pointers, because the direct method calls it for every output row's edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void ExtendRow(double* row, int n, int start, double* dst, int count, BoundaryMode boundary, double fillValue)
    {
        int insideFrom = Math.Clamp(-start, 0, count), insideTo = Math.Clamp(n - start, insideFrom, count);
        for (int t = 0; t < insideFrom; t++) dst[t] = Outside(row, n, start + t, boundary, fillValue);
        new ReadOnlySpan<double>(row + start + insideFrom, insideTo - insideFrom).CopyTo(new Span<double>(dst + insideFrom, insideTo - insideFrom));
        for (int t = insideTo; t < count; t++) dst[t] = Outside(row, n, start + t, boundary, fillValue);
    }

    /// <summary>
    /// The boundary-extended region of <paramref name="image"/> starting at (<paramref name="y0"/>, <paramref name="x0"/>),
    /// <paramref name="rows"/> × <paramref name="cols"/>, written row-major to <paramref name="dst"/> with row stride
    /// <paramref name="stride"/>: what the direct method's padded copy and the FFT method's symm/wrap input both read.
    /// </summary>
    internal static unsafe void ExtendRegion(Array2D image, int y0, int x0, int rows, int cols, BoundaryMode boundary, double fillValue,
        double* dst, long stride)
    {
        fixed (double* data = image.Data)
        {
            for (int u = 0; u < rows; u++)
            {
                int r = y0 + u;
                double* line = dst + u * stride;
                if (image.Rows > 0 && Resolve(ref r, image.Rows, boundary))
                    ExtendRow(data + (long)r * image.Cols, image.Cols, x0, line, cols, boundary, fillValue);
                else
                    new Span<double>(line, cols).Fill(fillValue);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe double Outside(double* row, int n, int c, BoundaryMode boundary, double fillValue) =>
        Resolve(ref c, n, boundary) ? row[c] : fillValue;

    private static int Mod(int a, int m)
    {
        int r = a % m;
        return r < 0 ? r + m : r;
    }
}
