namespace ConvService.Jobs;

/// <summary>Hangfire queue names.</summary>
public static class QueueNames
{
    /// <summary>Convolution jobs (user jobs and the benchmark's hangfire strategy).</summary>
    public const string Convolutions = "convolutions";
    /// <summary>Jobs with method 'gpu': served only by nodes that have a GPU (<see cref="GpuRunner"/>), one worker each.</summary>
    public const string Gpu = "gpu";
    /// <summary>Benchmark runs, served by their own single worker so they never wait behind small jobs.</summary>
    public const string Benchmarks = "benchmarks";
}
