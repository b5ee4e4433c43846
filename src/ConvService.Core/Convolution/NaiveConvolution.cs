using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>
/// The reference implementation: the convolution sum written out literally, one kept output at a time,
/// with the boundary resolved per tap. Slow on purpose; every fast path is tested against it.
/// </summary>
public static class NaiveConvolution
{
    /// <summary>Computes the kept outputs of <paramref name="geometry"/> into <paramref name="output"/>.</summary>
    public static void Run(Array2D image, Array2D kernel, in ConvolutionGeometry geometry, in ConvolutionOptions options,
        Array2D output, int firstRow, int endRow)
    {
        int m = geometry.ImageRows, n = geometry.ImageCols, p = geometry.KernelRows, q = geometry.KernelCols;
        for (int i = firstRow; i < endRow; i++)
        {
            int y = geometry.OriginY + i * geometry.StrideY;
            var outRow = output.Row(i);
            for (int j = 0; j < geometry.OutputCols; j++)
            {
                int x = geometry.OriginX + j * geometry.StrideX;
                double sum = 0;
                for (int k = 0; k < p; k++)
                {
                    int r = y - k;
                    bool rowInside = BoundaryIndex.Resolve(ref r, m, options.Boundary);
                    for (int l = 0; l < q; l++)
                    {
                        int c = x - l;
                        bool inside = BoundaryIndex.Resolve(ref c, n, options.Boundary) && rowInside;
                        sum += kernel[k, l] * (inside ? image[r, c] : options.FillValue);
                    }
                }
                outRow[j] = sum;
            }
        }
    }
}
