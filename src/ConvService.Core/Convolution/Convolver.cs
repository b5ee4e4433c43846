using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>
/// The one entry point for 2-D convolution. <see cref="Convolve2D"/> returns exactly
/// <c>scipy.signal.convolve2d(image, kernel, mode, boundary, fillvalue)[::sy, ::sx]</c>, computing only
/// the outputs the stride keeps.
/// </summary>
public static class Convolver
{
    /// <summary>Convolves <paramref name="image"/> with <paramref name="kernel"/>.</summary>
    /// <exception cref="ConvolutionRefusedException">The request is one scipy refuses, or cannot be computed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between row bands.</exception>
    public static Array2D Convolve2D(Array2D image, Array2D kernel, ConvolutionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernel);
        var geometry = ConvolutionGeometry.Compute(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
        if (geometry.Swapped) (image, kernel) = (kernel, image);
        var choice = Plan(geometry, options);
        var output = new Array2D(geometry.OutputRows, geometry.OutputCols);
        if (output.IsEmpty) return output;

        // Row bands keep cancellation responsive without a check per pixel.
        const int bandRows = 64;
        for (int start = 0; start < geometry.OutputRows; start += bandRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(start + bandRows, geometry.OutputRows);
            NaiveConvolution.Run(image, kernel, geometry, options, output, start, end);
        }
        return output;
    }

    /// <summary>
    /// Resolves <see cref="ConvolutionOptions.Method"/> to a concrete method for these shapes, with the reason;
    /// throws <see cref="ConvolutionRefusedException"/> when the requested method cannot serve the options.
    /// </summary>
    public static MethodChoice Plan(int imageRows, int imageCols, int kernelRows, int kernelCols, ConvolutionOptions options) =>
        Plan(ConvolutionGeometry.Compute(imageRows, imageCols, kernelRows, kernelCols, options), options);

    private static MethodChoice Plan(in ConvolutionGeometry geometry, in ConvolutionOptions options)
    {
        double estimateMs = geometry.DirectMultiplyAdds / 1e6; // ~1 ns per multiply-add for the scalar loop
        return options.Method switch
        {
            ConvolutionMethod.Naive => new MethodChoice(ConvolutionMethod.Naive, "requested", estimateMs),
            ConvolutionMethod.Direct => new MethodChoice(ConvolutionMethod.Naive, "requested (direct runs the reference loop until the SIMD kernels land)", estimateMs),
            ConvolutionMethod.Auto => new MethodChoice(ConvolutionMethod.Naive, "only the reference loop is available yet", estimateMs),
            _ => throw new ConvolutionRefusedException(
                $"Method '{options.Method.ToString().ToLowerInvariant()}' is not available yet; use 'auto', 'direct' or 'naive'."),
        };
    }
}
