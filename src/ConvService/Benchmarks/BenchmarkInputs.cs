using ConvService.Model;
using ConvService.Storage;

namespace ConvService.Benchmarks;

/// <summary>Pins a benchmark's image and filters while it is queued or running.</summary>
public static class BenchmarkInputs
{
    /// <summary>Pins every input in the report's owner's namespace; false (with nothing left pinned) when one is gone.</summary>
    public static ValueTask<bool> PinAsync(IArrayStore arrays, BenchmarkReport report) => arrays.For(report.Owner).PinAllAsync(Ids(report.Request));

    /// <summary>Releases the pins.</summary>
    public static ValueTask ReleaseAsync(IArrayStore arrays, BenchmarkReport report) => arrays.For(report.Owner).UnpinAllAsync(Ids(report.Request));

    private static string[] Ids(NormalizedBenchmark plan) => [plan.Image.ArrayId, .. plan.Kernel.ArrayIds];
}
