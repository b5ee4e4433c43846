using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>Adapts <see cref="NaiveConvolution.Run"/> to row bands.</summary>
internal sealed class NaiveRunner(Array2D image, Array2D kernel, ConvolutionGeometry geometry, ConvolutionOptions options) : IRowBandRunner
{
    public void RunRows(Array2D output, int firstRow, int endRow) =>
        NaiveConvolution.Run(image, kernel, geometry, options, output, firstRow, endRow);

    public void Dispose() { }
}
