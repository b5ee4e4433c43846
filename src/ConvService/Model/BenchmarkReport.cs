using ConvService.Core.Convolution;

namespace ConvService.Model;

/// <summary>A benchmark as stored and shown: status, progress, environment and per-strategy results.</summary>
public sealed record BenchmarkReport
{
    /// <summary>Benchmark id (32 hex digits, time-ordered).</summary>
    public required string Id { get; init; }
    /// <summary>queued | running | succeeded | failed | cancelled.</summary>
    public required JobStatus Status { get; init; }
    /// <summary>Accepted at.</summary>
    public required DateTimeOffset SubmittedAt { get; init; }
    /// <summary>Started at.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>Finished at.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Convolutions done so far, warm-up included, of the total.</summary>
    public required BenchmarkProgress Progress { get; init; }
    /// <summary>The request, normalized.</summary>
    public required NormalizedBenchmark Request { get; init; }
    /// <summary>The method the cost model chose and why.</summary>
    public required ConvolutionMethod Method { get; init; }
    /// <summary>Why that method.</summary>
    public required string MethodReason { get; init; }
    /// <summary>The cost model's estimate of one convolution on one thread, in ms.</summary>
    public double MethodEstimateMs { get; init; }
    /// <summary>The cost model's estimate of the whole run, in seconds.</summary>
    public double EstimatedSeconds { get; init; }
    /// <summary>Where it ran.</summary>
    public BenchmarkEnvironment? Environment { get; init; }
    /// <summary>One entry per strategy, in request order.</summary>
    public IReadOnlyList<StrategyResult> Results { get; init; } = [];
    /// <summary>True only when every strategy and repetition produced identical outputs.</summary>
    public bool? ResultsAgree { get; init; }
    /// <summary>What makes these figures unrepresentative (a Debug build, JIT settings, other jobs running…); empty when nothing does.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>One-paragraph reading of the results.</summary>
    public string? Summary { get; init; }
    /// <summary>Why it failed or was cancelled.</summary>
    public string? Error { get; init; }
    /// <summary>Hangfire's id for the benchmark job.</summary>
    public string? HangfireJobId { get; init; }
    /// <summary>The owner id (a hash of the API key that submitted it; absent without configured keys). Only that key sees the benchmark.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Owner { get; init; }
}

/// <summary>Progress counter.</summary>
/// <param name="Completed">Convolutions done.</param>
/// <param name="Total">Convolutions planned (warm-up included).</param>
public sealed record BenchmarkProgress(long Completed, long Total);

/// <summary>The machine and run-time the numbers come from.</summary>
/// <param name="ProcessorCount">Logical processors.</param>
/// <param name="WorkerCount">Threads of the parallel strategies (this node's Hangfire convolution workers).</param>
/// <param name="HangfireWorkers">Convolution workers on every live node (what the hangfire strategy spreads over).</param>
/// <param name="Os">Operating system.</param>
/// <param name="Runtime">.NET runtime.</param>
/// <param name="Cpu">CPU model.</param>
/// <param name="Simd">Vector widths the kernels can use.</param>
/// <param name="GcMode">Garbage collector mode.</param>
/// <param name="ConcurrentJobs">Most other convolution jobs seen queued or running during the benchmark (0 = undisturbed).</param>
/// <param name="Node">Node that ran the benchmark.</param>
/// <param name="Build">Release, or Debug when the service or its numeric core was compiled without optimisation (timings then mean little).</param>
/// <param name="TieredCompilation">Whether the JIT recompiles hot methods while running (off in the shipped configuration: it recompiled the timed code mid-run).</param>
/// <param name="Accelerators">The running node's GPUs (empty when none).</param>
public sealed record BenchmarkEnvironment(
    int ProcessorCount, int WorkerCount, int HangfireWorkers, string Os, string Runtime, string Cpu, string Simd, string GcMode,
    int ConcurrentJobs, string Node, string Build = "Release", bool TieredCompilation = false,
    IReadOnlyList<ConvService.Gpu.AcceleratorInfo>? Accelerators = null);

/// <summary>One strategy's measurements over the repetitions.</summary>
/// <param name="Strategy">serial | parallel | parallel-rows | fused | hangfire | hangfire-fused.</param>
/// <param name="Convolutions">Convolutions per repetition.</param>
/// <param name="Workers">Threads or workers the strategy used.</param>
/// <param name="WallMs">Wall-clock time of a repetition.</param>
/// <param name="PerConvolutionMs">Time of single convolutions alone, over all repetitions (the checksum that rides along is in Breakdown.SummarizeMs).</param>
/// <param name="ThroughputPerSecond">Convolutions per second at the median wall time.</param>
/// <param name="Speedup">Serial median wall ÷ this median wall (null without a serial run).</param>
/// <param name="Efficiency">Speedup ÷ workers.</param>
/// <param name="OverheadPerJobMs">Worker time per convolution beyond its compute: median wall × workers ÷ convolutions − median compute.</param>
/// <param name="Checksum">SHA-256 over every output's checksum (XXH3-128 of shape and data, as a job result's <c>checksum</c>), in order.</param>
/// <param name="Nodes">For hangfire: convolutions run per node.</param>
/// <param name="Breakdown">Where the workers' time went, per convolution.</param>
/// <param name="MaxRelativeError">gpu strategies: the largest difference of their outputs from the CPU direct method's, relative to
/// each output's largest magnitude (they agree when it is at most 1e-12); null for CPU strategies, which must agree bit for bit.</param>
public sealed record StrategyResult(
    BenchmarkStrategy Strategy, int Convolutions, int Workers, TimeStats WallMs, TimeStats PerConvolutionMs, double ThroughputPerSecond,
    double? Speedup, double? Efficiency, double OverheadPerJobMs, string Checksum, IReadOnlyDictionary<string, int>? Nodes,
    StrategyBreakdown? Breakdown = null, double? MaxRelativeError = null);

/// <summary>
/// Where a strategy's worker time went, in milliseconds per convolution, as means over the measured repetitions:
/// <see cref="ConvolveMs"/> + <see cref="SummarizeMs"/> + the job stages + <see cref="OtherMs"/> = <see cref="WorkerMsPerConvolution"/>.
/// The job stages are null for the thread strategies, which have none.
/// </summary>
/// <param name="WorkerMsPerConvolution">Mean wall time × workers ÷ convolutions: the worker time one convolution costs.</param>
/// <param name="ConvolveMs">The convolution alone (what perConvolutionMs reports).</param>
/// <param name="MarkRunningMs">hangfire: recording the job as running.</param>
/// <param name="LoadInputsMs">hangfire: fetching image and kernel from the array store.</param>
/// <param name="SummarizeMs">The output's checksum and statistics (for resultsAgree and the job's summary), computed band by band
/// inside the convolution while each band is in cache, and timed there.</param>
/// <param name="StoreMs">hangfire: storing the result.</param>
/// <param name="OtherMs">The rest. hangfire: Hangfire's fetch and state changes, the outcome record, and workers idle while
/// the run ramps up and drains; thread strategies: uneven shares and the hand-off to the threads.</param>
/// <param name="EnqueueMs">hangfire: the benchmark's own time to submit one job (on the benchmark worker, not a convolution worker).</param>
/// <param name="QueueWaitMs">hangfire: median submitted → started (jobs wait behind each other: not worker time).</param>
/// <param name="CopyMs">gpu strategies: host ↔ device copies (the outputs' download; uploads only when an input was not resident).</param>
public sealed record StrategyBreakdown(
    double WorkerMsPerConvolution, double ConvolveMs, double? MarkRunningMs, double? LoadInputsMs, double SummarizeMs, double? StoreMs,
    double OtherMs, double? EnqueueMs, double? QueueWaitMs, double? CopyMs = null);

/// <summary>Summary statistics in milliseconds.</summary>
/// <param name="Median">Median.</param>
/// <param name="Min">Minimum.</param>
/// <param name="Max">Maximum.</param>
/// <param name="Stddev">Sample standard deviation (0 for a single value).</param>
/// <param name="P95">95th percentile.</param>
public sealed record TimeStats(double Median, double Min, double Max, double Stddev, double P95);
