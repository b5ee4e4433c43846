using System.Text.Json.Serialization;
using ConvService.Core.Convolution;

namespace ConvService.Model;

/// <summary>A convolution request after validation: defaults filled in, inputs resolved to stored arrays.</summary>
/// <param name="Image">The image as stored.</param>
/// <param name="Kernel">The kernel as stored.</param>
/// <param name="Mode">full | same | valid.</param>
/// <param name="Boundary">fill | wrap | symm; with NanTreatment fill | wrap | extend.</param>
/// <param name="FillValue">Padding value for fill.</param>
/// <param name="Stride">[sy, sx].</param>
/// <param name="Method">The method asked for: auto | direct | fft | naive.</param>
/// <param name="Threads">Threads for this one convolution.</param>
/// <param name="NanTreatment">interpolate | fill for astropy's NaN-aware convolution; null (and not shown) for scipy's.</param>
/// <param name="NormalizeKernel">With NanTreatment: whether the kernel is divided by its sum.</param>
/// <param name="PreserveNan">With NanTreatment: whether NaN input pixels stay NaN.</param>
/// <param name="Kernels">A filter bank's kernels as stored, in request order (<see cref="Kernel"/> is the first); null for one-kernel jobs.</param>
/// <param name="Operation">correlate for scipy.signal.correlate2d; null (and not shown) for convolve2d.</param>
public sealed record NormalizedConvolution(
    ArrayReference Image, ArrayReference Kernel, ConvolutionMode Mode, ConvolutionBoundary Boundary, double FillValue,
    int[] Stride, ConvolutionMethod Method, int Threads,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] NanTreatment? NanTreatment = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? NormalizeKernel = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? PreserveNan = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ArrayReference[]? Kernels = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ConvolutionOperation? Operation = null)
{
    /// <summary>The kernels to apply: the bank's, or the one kernel.</summary>
    public IReadOnlyList<ArrayReference> AllKernels => Kernels ?? [Kernel];
}

/// <summary>A stored input.</summary>
/// <param name="ArrayId">Content id in the array store.</param>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Source">How it arrived: data | arrayId | generate.</param>
/// <param name="Generate">The generator spec when generated.</param>
public sealed record ArrayReference(string ArrayId, int[] Shape, string Source, GenerateSpec? Generate = null);

/// <summary>A seeded synthetic array.</summary>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Fill">zeros | normal | uniform.</param>
/// <param name="Seed">Seed; the same seed gives the same array on every machine (not numpy's stream).</param>
public sealed record GenerateSpec(int[]? Shape, string? Fill = "zeros", int Seed = 0);
