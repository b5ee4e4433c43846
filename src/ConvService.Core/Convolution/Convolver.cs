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
        return Execute(image, kernel, geometry, options, choice.Method, cancellationToken);
    }

    /// <summary>Runs <paramref name="method"/> on inputs already in geometry order; tests use it to force a path.</summary>
    internal static Array2D Execute(Array2D image, Array2D kernel, in ConvolutionGeometry geometry, in ConvolutionOptions options,
        ConvolutionMethod method, CancellationToken cancellationToken, Simd.VectorTier? tier = null)
    {
        var output = new Array2D(geometry.OutputRows, geometry.OutputCols);
        // An empty kernel makes every output an empty sum: the zeros the new array already holds.
        if (output.IsEmpty || geometry.KernelRows == 0 || geometry.KernelCols == 0) return output;

        using IRowBandRunner runner = method switch
        {
            ConvolutionMethod.Naive => new NaiveRunner(image, kernel, geometry, options),
            ConvolutionMethod.Direct => DirectConvolution.Prepare(image, kernel, geometry, options, tier),
            _ => throw new InvalidOperationException($"Plan resolved to {method}, which has no runner."),
        };
        RowBands.Run(runner, output, options.Threads, cancellationToken);
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
        if (options.Threads < 1)
            throw new ConvolutionRefusedException($"Threads is {options.Threads}: it must be at least 1 (1 = the calling thread only).");
        double naiveMs = geometry.DirectMultiplyAdds / 1e6; // ~1 ns per multiply-add for the scalar reference loop
        double directMs = geometry.DirectMultiplyAdds / 4e6;
        return options.Method switch
        {
            ConvolutionMethod.Naive => new MethodChoice(ConvolutionMethod.Naive, "requested", naiveMs),
            ConvolutionMethod.Direct => new MethodChoice(ConvolutionMethod.Direct, "requested", directMs),
            ConvolutionMethod.Auto => new MethodChoice(ConvolutionMethod.Direct,
                $"direct: {geometry.KernelRows}×{geometry.KernelCols} kernel (the fft method is not available yet)", directMs),
            _ => throw new ConvolutionRefusedException(
                $"Method '{options.Method.ToString().ToLowerInvariant()}' is not available yet; use 'auto', 'direct' or 'naive'."),
        };
    }
}
