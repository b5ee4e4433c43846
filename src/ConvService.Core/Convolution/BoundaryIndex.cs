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
    /// dst[t] = the value of <paramref name="row"/> at column <paramref name="start"/> + t under the boundary rule
    /// (<paramref name="fillValue"/> outside, for fill). Columns inside the row are copied in one block; only
    /// those beyond an edge go through <see cref="Resolve"/>.
    /// </summary>
    internal static void ExtendRow(ReadOnlySpan<double> row, int start, Span<double> dst, BoundaryMode boundary, double fillValue)
    {
        int n = row.Length, count = dst.Length;
        int insideFrom = Math.Clamp(-start, 0, count), insideTo = Math.Clamp(n - start, insideFrom, count);
        for (int t = 0; t < insideFrom; t++) dst[t] = Outside(row, start + t, boundary, fillValue);
        if (insideTo > insideFrom) row.Slice(start + insideFrom, insideTo - insideFrom).CopyTo(dst[insideFrom..insideTo]);
        for (int t = insideTo; t < count; t++) dst[t] = Outside(row, start + t, boundary, fillValue);
    }

    /// <summary>
    /// The boundary-extended region of <paramref name="image"/> starting at (<paramref name="y0"/>, <paramref name="x0"/>),
    /// <paramref name="rows"/> × <paramref name="cols"/>, written row-major to <paramref name="dst"/> with row stride
    /// <paramref name="stride"/>: what the direct method's padded copy and the FFT method's symm/wrap input both read.
    /// </summary>
    internal static unsafe void ExtendRegion(Array2D image, int y0, int x0, int rows, int cols, BoundaryMode boundary, double fillValue,
        double* dst, long stride)
    {
        for (int u = 0; u < rows; u++)
        {
            int r = y0 + u;
            var line = new Span<double>(dst + u * stride, cols);
            if (image.Rows > 0 && Resolve(ref r, image.Rows, boundary)) ExtendRow(image.Row(r), x0, line, boundary, fillValue);
            else line.Fill(fillValue);
        }
    }

    private static double Outside(ReadOnlySpan<double> row, int c, BoundaryMode boundary, double fillValue) =>
        Resolve(ref c, row.Length, boundary) ? row[c] : fillValue;

    private static int Mod(int a, int m)
    {
        int r = a % m;
        return r < 0 ? r + m : r;
    }
}
