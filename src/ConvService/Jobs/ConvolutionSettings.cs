using ConvService.Core.Convolution;
using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>A convolution request's options, checked and in the model's enums, waiting for its inputs.</summary>
public sealed record ConvolutionSettings(
    ConvolutionMode Mode, ConvolutionBoundary Boundary, double FillValue, int[] Stride, ConvolutionMethod Method, int Threads,
    NanTreatment? NanTreatment = null, bool? NormalizeKernel = null, bool? PreserveNan = null, ConvolutionOperation? Operation = null)
{
    /// <summary>The normalized request for these inputs; <paramref name="kernels"/> is a filter bank (its first is <paramref name="kernel"/>) or null.</summary>
    public NormalizedConvolution For(ArrayReference image, ArrayReference kernel, ArrayReference[]? kernels = null) =>
        new(image, kernel, Mode, Boundary, FillValue, Stride, Method, Threads, NanTreatment, NormalizeKernel, PreserveNan, kernels, Operation);
}
