using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>A convolution request's options, checked and in canonical words, waiting for its inputs.</summary>
public sealed record ConvolutionSettings(
    string Mode, string Boundary, double FillValue, int[] Stride, string Method, int Threads,
    string? NanTreatment = null, bool? NormalizeKernel = null, bool? PreserveNan = null, string? Operation = null)
{
    /// <summary>The normalized request for these inputs; <paramref name="kernels"/> is a filter bank (its first is <paramref name="kernel"/>) or null.</summary>
    public NormalizedConvolution For(ArrayReference image, ArrayReference kernel, ArrayReference[]? kernels = null) =>
        new(image, kernel, Mode, Boundary, FillValue, Stride, Method, Threads, NanTreatment, NormalizeKernel, PreserveNan, kernels, Operation);
}
