using ConvService.Apis.Contracts;
using ConvService.Jobs;

namespace ConvService.Benchmarks;

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
    NormalizedBenchmarkImage Image, NormalizedBenchmarkKernels Kernel, int Iterations, string Mode, string Boundary,
    double FillValue, int[] Stride, string Method, string[] Strategies, int Repetitions, int Warmup)
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
    public required string Method { get; init; }
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
    string Strategy, int Convolutions, int Workers, TimeStats WallMs, TimeStats PerConvolutionMs, double ThroughputPerSecond,
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

/// <summary>What a benchmark run produced.</summary>
/// <param name="Results">One per strategy, in request order.</param>
/// <param name="Environment">Where it ran.</param>
/// <param name="Agree">True when every output of every strategy and repetition was identical.</param>
/// <param name="Warnings">What makes the figures unrepresentative.</param>
public sealed record BenchmarkOutcome(IReadOnlyList<StrategyResult> Results, BenchmarkEnvironment Environment, bool Agree, IReadOnlyList<string> Warnings);

/// <summary>Summary statistics in milliseconds.</summary>
/// <param name="Median">Median.</param>
/// <param name="Min">Minimum.</param>
/// <param name="Max">Maximum.</param>
/// <param name="Stddev">Sample standard deviation (0 for a single value).</param>
/// <param name="P95">95th percentile.</param>
public sealed record TimeStats(double Median, double Min, double Max, double Stddev, double P95);

/// <summary>A page of benchmarks, newest first.</summary>
/// <param name="Items">Benchmarks.</param>
/// <param name="Next">Cursor for the next page, or null.</param>
public sealed record BenchmarkPage(IReadOnlyList<BenchmarkReport> Items, string? Next);
