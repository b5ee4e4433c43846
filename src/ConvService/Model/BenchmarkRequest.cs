using ConvService.Core.Convolution;

namespace ConvService.Model;

/// <summary>
/// A benchmark request. Every field is optional: the defaults are the IRSA tutorial's experiment
/// (3000×3000 zeros ⊛ processor-count random 4×4 normal filters, 100 iterations, full, [::5, ::5]).
/// </summary>
/// <param name="Image">The image: <c>{"shape": [r, c], "fill": "zeros", "seed": 0}</c> or <c>{"arrayId": "..."}</c>.</param>
/// <param name="Kernel">The filters: <c>{"shape": [4, 4], "count": N, "seed": 0, "fill": "normal"}</c> or <c>{"arrayId": "...", "count": N}</c>.</param>
/// <param name="Iterations">Rounds; each convolves the image with every filter (default 100).</param>
/// <param name="Mode">full (default) | same | valid.</param>
/// <param name="Boundary">fill (default) | wrap | symm.</param>
/// <param name="FillValue">Padding value for fill (default 0).</param>
/// <param name="Stride">Output stride, n or [sy, sx] (default [5, 5]).</param>
/// <param name="Method">auto (default) | direct | fft | naive.</param>
/// <param name="Strategies">Any of serial, parallel, parallel-rows, fused, hangfire, hangfire-fused (default serial, parallel, fused, hangfire).
/// fused: each iteration is one filter bank over all filters (one pass over the image), its rows spread over the workers;
/// hangfire-fused: one Hangfire job per iteration's bank.</param>
/// <param name="Repetitions">Measured repetitions of every strategy, interleaved (default 3).</param>
/// <param name="Warmup">Unmeasured warm-up rounds of every strategy (default 1).</param>
public sealed record BenchmarkRequest(
    BenchmarkImageSpec? Image = null,
    BenchmarkKernelSpec? Kernel = null,
    int? Iterations = null,
    string? Mode = null,
    string? Boundary = null,
    double? FillValue = null,
    Stride? Stride = null,
    string? Method = null,
    string[]? Strategies = null,
    int? Repetitions = null,
    int? Warmup = null);

/// <summary>The benchmark image: generated, or a stored array.</summary>
/// <param name="Shape">[rows, cols] (default [3000, 3000]).</param>
/// <param name="Fill">zeros (default) | normal | uniform.</param>
/// <param name="Seed">Generator seed (default 0).</param>
/// <param name="ArrayId">Use a stored array instead of generating one.</param>
public sealed record BenchmarkImageSpec(int[]? Shape = null, string? Fill = null, int? Seed = null, string? ArrayId = null);

/// <summary>The benchmark filters: generated with seeds seed, seed+1, …, or one stored array used count times.</summary>
/// <param name="Shape">[rows, cols] (default [4, 4]).</param>
/// <param name="Count">Number of filters (default: the processor count, as the tutorial's num_cpus; 1 with arrayId).</param>
/// <param name="Seed">Seed of the first filter (default 0).</param>
/// <param name="Fill">normal (default) | uniform | zeros.</param>
/// <param name="ArrayId">Use a stored array as every filter.</param>
public sealed record BenchmarkKernelSpec(int[]? Shape = null, int? Count = null, int? Seed = null, string? Fill = null, string? ArrayId = null);

/// <summary>A benchmark request with every default filled in and inputs resolved to stored arrays.</summary>
/// <param name="Image">The image.</param>
/// <param name="Kernel">The filters.</param>
/// <param name="Iterations">Rounds.</param>
/// <param name="Mode">Mode.</param>
/// <param name="Boundary">Boundary.</param>
/// <param name="FillValue">Fill value.</param>
/// <param name="Stride">[sy, sx].</param>
/// <param name="Method">Requested method.</param>
/// <param name="Strategies">Strategies, in run order.</param>
/// <param name="Repetitions">Measured repetitions.</param>
/// <param name="Warmup">Warm-up rounds.</param>
public sealed record NormalizedBenchmark(
    NormalizedBenchmarkImage Image, NormalizedBenchmarkKernels Kernel, int Iterations, ConvolutionMode Mode, ConvolutionBoundary Boundary,
    double FillValue, int[] Stride, ConvolutionMethod Method, BenchmarkStrategy[] Strategies, int Repetitions, int Warmup)
{
    /// <summary>Convolutions one strategy runs per repetition: iterations × filters.</summary>
    public int ConvolutionsPerRun => Iterations * Kernel.Count;
}

/// <summary>The resolved image.</summary>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Fill">Generator fill, or null for a stored array.</param>
/// <param name="Seed">Generator seed, or null.</param>
/// <param name="ArrayId">Content id in the array store.</param>
public sealed record NormalizedBenchmarkImage(int[] Shape, string? Fill, int? Seed, string ArrayId);

/// <summary>The resolved filters.</summary>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Count">How many.</param>
/// <param name="Seed">Seed of the first, or null for a stored array.</param>
/// <param name="Fill">Generator fill, or null.</param>
/// <param name="ArrayIds">Content id of each filter, in order.</param>
public sealed record NormalizedBenchmarkKernels(int[] Shape, int Count, int? Seed, string? Fill, string[] ArrayIds);
