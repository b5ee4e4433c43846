using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ConvService.Apis;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Jobs;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using MathNet.Numerics.Statistics;
using Microsoft.Extensions.Options;

namespace ConvService.Benchmarks;

/// <summary>
/// Runs a planned benchmark: warm-up, then repetitions interleaved across strategies (serial, parallel, …,
/// serial, parallel, …) so machine noise falls on every strategy alike. Every output gets the same
/// <see cref="ResultDigest"/> checksum, fused into the convolution as the job path does it, so the strategies do the
/// same work and their outputs can be compared.
/// </summary>
public sealed class BenchmarkRunner(
    IArrayStore arrays, IJobStore jobs, ConvolutionSubmitter submitter, ConvolutionJobLifecycle lifecycle,
    JobStorage hangfireStorage, TimeProvider time, IOptions<ConvServiceOptions> options, BenchmarkThreads threads)
{
    private readonly ConvServiceOptions _options = options.Value;

    /// <summary>Convolutions done so far by benchmarks running on this node, for live progress.</summary>
    public static ConcurrentDictionary<string, StrongBox> LiveProgress { get; } = new(StringComparer.Ordinal);

    /// <summary>A mutable counter shared between the runner and readers.</summary>
    public sealed class StrongBox
    {
        /// <summary>Convolutions completed.</summary>
        public long Completed;
    }

    /// <summary>One repetition of one strategy. <paramref name="ChecksumMs"/> per output for the thread strategies; <paramref name="Stages"/> and the enqueue/queue times only for hangfire.</summary>
    private sealed record RunMeasurement(double WallMs, double[] ComputeMs, string[] Checksums, Dictionary<string, int>? Nodes,
        JobStages[]? Stages = null, double EnqueueMs = 0, double[]? QueueWaitMs = null, double[]? ChecksumMs = null);

    /// <summary>Measures every strategy; returns results, environment, whether outputs agree, and warnings about the run.</summary>
    public async Task<BenchmarkOutcome> RunAsync(BenchmarkReport report, ConvolutionJobRecord template, CancellationToken cancellationToken)
    {
        var plan = report.Request;
        var owned = arrays.For(report.Owner);
        var image = await owned.TryGetAsync(plan.Image.ArrayId, cancellationToken)
            ?? throw new InvalidOperationException("The benchmark image is no longer in the array store; submit the benchmark again.");
        var kernels = new Array2D[plan.Kernel.Count];
        for (int i = 0; i < kernels.Length; i++)
            kernels[i] = await owned.TryGetAsync(plan.Kernel.ArrayIds[i], cancellationToken)
                ?? throw new InvalidOperationException("A benchmark filter is no longer in the array store; submit the benchmark again.");

        var coreOptions = RequestParsing.ToCoreOptions(template.Request, template.Method);
        int workers = Math.Min(_options.EffectiveWorkers, threads.Count);
        var progress = LiveProgress.GetOrAdd(report.Id, static _ => new StrongBox());
        // Sampled between strategy runs, when none of this benchmark's own jobs are active: anything counted is someone else's.
        int concurrent = await jobs.CountActiveAsync(cancellationToken);
        var measurements = new Dictionary<string, List<RunMeasurement>>();
        foreach (var strategy in plan.Strategies) measurements[strategy] = [];
        int hangfireWorkers = HangfireWorkers();

        try
        {
            for (int round = 0; round < plan.Warmup + plan.Repetitions; round++)
            {
                foreach (var strategy in plan.Strategies)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var run = strategy switch
                    {
                        "serial" => RunThreads(image, kernels, plan.Iterations, coreOptions, 1, progress, cancellationToken),
                        "parallel" => RunThreads(image, kernels, plan.Iterations, coreOptions, workers, progress, cancellationToken),
                        "parallel-rows" => RunThreads(image, kernels, plan.Iterations, coreOptions with { Threads = workers }, 1, progress, cancellationToken),
                        "hangfire" => await RunHangfireAsync(report.Id, template, plan, progress, cancellationToken),
                        _ => throw new InvalidOperationException($"Unknown strategy {strategy}."),
                    };
                    if (round >= plan.Warmup) measurements[strategy].Add(run);
                    concurrent = Math.Max(concurrent, await jobs.CountActiveAsync(cancellationToken));
                }
            }
        }
        finally
        {
            LiveProgress.TryRemove(report.Id, out _);
        }

        var results = new List<StrategyResult>();
        double? serialMedian = measurements.TryGetValue("serial", out var serialRuns) ? Median(serialRuns) : null;
        foreach (var strategy in plan.Strategies)
        {
            var runs = measurements[strategy];
            int strategyWorkers = strategy switch { "serial" => 1, "hangfire" => hangfireWorkers, _ => workers };
            results.Add(Summarize(strategy, runs, plan.ConvolutionsPerRun, strategyWorkers, serialMedian));
        }
        bool agree = true;
        foreach (var runs in measurements.Values)
            foreach (var run in runs)
                agree &= Checksum(run.Checksums) == results[0].Checksum;

        var build = BuildInfo.Current;
        var environment = new BenchmarkEnvironment(
            Environment.ProcessorCount, workers, hangfireWorkers, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            CpuModel(), SimdDescription(), (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent"),
            concurrent, _options.EffectiveNodeName, build.Configuration, build.TieredCompilation);
        return new BenchmarkOutcome(results, environment, agree, Warnings(build, environment));
    }

    /// <summary>What makes this run's figures unrepresentative, in words a user can act on.</summary>
    internal static IReadOnlyList<string> Warnings(BuildInfo build, BenchmarkEnvironment environment)
    {
        var warnings = new List<string>(build.Warnings);
        if (environment.ConcurrentJobs > 0)
            warnings.Add($"{environment.ConcurrentJobs} other convolution job(s) were queued or running during the benchmark: its timings are disturbed. " +
                "Run it again on an idle service.");
        if (environment.WorkerCount > environment.ProcessorCount)
            warnings.Add($"{environment.WorkerCount} workers on {environment.ProcessorCount} processors: the parallel strategies are oversubscribed. " +
                "Set ConvService:Workers to 0 (one per processor).");
        return warnings;
    }

    /// <summary>
    /// Serial (threads = 1) and parallel (threads = workers): the same convolutions spread over a fixed number of the
    /// persistent <see cref="BenchmarkThreads"/>, one convolution per thread at a time, each output checksummed as it is written.
    /// </summary>
    private RunMeasurement RunThreads(Array2D image, Array2D[] kernels, int iterations, ConvolutionOptions options, int threadCount,
        StrongBox progress, CancellationToken cancellationToken)
    {
        int n = iterations * kernels.Length;
        var compute = new double[n];
        var checksumMs = new double[n];
        var checksums = new string[n];
        // One output buffer and digest per thread, reused: each output is checksummed and dropped, as a loop over convolve2d
        // drops its results, and a reused buffer is warm where a fresh one pays a page fault per 4 KB (see ResultBufferPool).
        // The hangfire strategy gets the same from the pool and the store's sharing of identical results.
        var (rows, cols) = Convolver.OutputShape(image.Rows, image.Cols, kernels[0].Rows, kernels[0].Cols, options);
        var outputs = new Array2D[threadCount];
        var digests = new ResultDigest[threadCount];
        for (int t = 0; t < threadCount; t++)
        {
            outputs[t] = Array2D.CreateUninitialized(rows, cols);
            digests[t] = new ResultDigest(rows, cols);
        }
        long start = Stopwatch.GetTimestamp();
        // Static round-robin: no work stealing in the measurement, one convolution per thread at a time.
        threads.Run(threadCount, t =>
        {
            for (int i = t; i < n; i += threadCount)
            {
                long t0 = Stopwatch.GetTimestamp();
                var digest = digests[t];
                digest.Reset(rows, cols);
                Convolver.Convolve2D(image, kernels[i % kernels.Length], options, outputs[t], digest, cancellationToken);
                checksums[i] = digest.Finish().Checksum;
                double total = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                // The checksum rides along the convolution band by band; it is timed there and reported apart (perConvolutionMs is the convolution).
                checksumMs[i] = digest.Elapsed.TotalMilliseconds;
                compute[i] = total - checksumMs[i];
                Interlocked.Increment(ref progress.Completed);
            }
        });
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return new RunMeasurement(wall, compute, checksums, null, ChecksumMs: checksumMs);
    }

    /// <summary>
    /// Every convolution as a Hangfire job — the same <see cref="ConvolutionJob"/> that POST /convolutions runs —
    /// with the image stored once and referenced by id. The clock stops when the last result is stored.
    /// </summary>
    private async Task<RunMeasurement> RunHangfireAsync(string benchmarkId, ConvolutionJobRecord template, NormalizedBenchmark plan,
        StrongBox progress, CancellationToken cancellationToken)
    {
        int n = plan.ConvolutionsPerRun;
        var ids = new string[n];
        // The method was planned once for the benchmark; every job carries that plan.
        var choice = new MethodChoice(RequestParsing.ParseMethod(template.Method), template.MethodReason, template.MethodEstimateMs);
        long start = Stopwatch.GetTimestamp();
        try
        {
            for (int i = 0; i < n; i++)
            {
                var request = template.Request with
                {
                    Kernel = template.Request.Kernel with { ArrayId = plan.Kernel.ArrayIds[i % plan.Kernel.Count] },
                };
                var record = await submitter.EnqueueAsync(request, choice, benchmarkId, template.Owner, cancellationToken);
                ids[i] = record.Id;
            }
            double enqueueMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var compute = new double[n];
            var checksums = new string[n];
            var stages = new JobStages[n];
            var queueWait = new double[n];
            var nodes = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < n; i++)
            {
                var done = await lifecycle.WaitAsync(ids[i], TimeSpan.FromHours(1), cancellationToken);
                if (done is not { Status: JobStatus.Succeeded, Result.Checksum: not null, Stages: not null })
                    throw new InvalidOperationException($"Benchmark convolution job {ids[i]} ended {done?.Status.ToString().ToLowerInvariant() ?? "deleted"}: {done?.Error}");
                compute[i] = done.ComputeMs ?? 0;
                checksums[i] = done.Result.Checksum;
                stages[i] = done.Stages;
                queueWait[i] = done.StartedAt is { } s ? (s - done.SubmittedAt).TotalMilliseconds : 0;
                string node = done.Node ?? "unknown";
                nodes[node] = nodes.GetValueOrDefault(node) + 1;
                Interlocked.Increment(ref progress.Completed);
            }
            // Waiting in submission order can only observe the last completion late, never early: the wall clock is honest.
            double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return new RunMeasurement(wall, compute, checksums, nodes, stages, enqueueMs, queueWait);
        }
        finally
        {
            // Benchmark jobs are measurement, not user jobs: cancel stragglers, then forget the records.
            foreach (var id in ids)
            {
                if (id is null) continue;
                var (outcome, _) = await lifecycle.CancelOrDeleteAsync(id, CancellationToken.None);
                if (outcome == DeleteOutcome.Cancelled) await lifecycle.CancelOrDeleteAsync(id, CancellationToken.None);
            }
        }
    }

    private static StrategyResult Summarize(string strategy, List<RunMeasurement> runs, int convolutions, int workers, double? serialMedian)
    {
        var walls = new double[runs.Count];
        var computes = new List<double>(runs.Count * convolutions);
        for (int r = 0; r < runs.Count; r++)
        {
            walls[r] = runs[r].WallMs;
            computes.AddRange(runs[r].ComputeMs);
        }
        var wallStats = Stats(walls);
        var computeStats = Stats(computes.ToArray());
        double? speedup = serialMedian is { } s ? s / wallStats.Median : null;
        return new StrategyResult(
            strategy, convolutions, workers, wallStats, computeStats,
            ThroughputPerSecond: convolutions / (wallStats.Median / 1000.0),
            Speedup: speedup,
            Efficiency: speedup / workers,
            OverheadPerJobMs: wallStats.Median * workers / convolutions - computeStats.Median,
            Checksum: Checksum(runs[^1].Checksums),
            Nodes: runs[^1].Nodes,
            Breakdown: Breakdown(runs, convolutions, workers));
    }

    /// <summary>
    /// Where each worker's time went, as means per convolution over every measured repetition: the parts add up to
    /// mean wall × workers ÷ convolutions. Means, not medians, so that they add up.
    /// </summary>
    private static StrategyBreakdown Breakdown(List<RunMeasurement> runs, int convolutions, int workers)
    {
        double wall = 0, convolve = 0, checksum = 0, markRunning = 0, load = 0, summarize = 0, store = 0, enqueue = 0;
        var queueWaits = new List<double>();
        int jobs = 0;
        bool hasStages = runs.Count > 0 && runs[0].Stages is not null;
        foreach (var run in runs)
        {
            wall += run.WallMs;
            enqueue += run.EnqueueMs;
            for (int i = 0; i < run.ComputeMs.Length; i++)
            {
                jobs++;
                if (run.Stages?[i] is { } st)
                {
                    markRunning += st.MarkRunningMs;
                    load += st.LoadInputsMs;
                    convolve += st.ConvolveMs;
                    summarize += st.SummarizeMs;
                    store += st.StoreMs;
                }
                else
                {
                    convolve += run.ComputeMs[i];
                    checksum += run.ChecksumMs?[i] ?? 0;
                }
            }
            if (run.QueueWaitMs is { } waits) queueWaits.AddRange(waits);
        }
        if (jobs == 0) return new StrategyBreakdown(0, 0, null, null, 0, null, 0, null, null);
        double perJob = wall / runs.Count * workers / convolutions;
        double Mean(double total) => total / jobs;
        // The checksum of the thread strategies and the summary stage of the job path are the same work (ResultDigest).
        double summary = hasStages ? Mean(summarize) : Mean(checksum);
        double inJob = Mean(convolve) + summary + (hasStages ? Mean(markRunning) + Mean(load) + Mean(store) : 0);
        return new StrategyBreakdown(
            WorkerMsPerConvolution: perJob,
            ConvolveMs: Mean(convolve),
            MarkRunningMs: hasStages ? Mean(markRunning) : null,
            LoadInputsMs: hasStages ? Mean(load) : null,
            SummarizeMs: summary,
            StoreMs: hasStages ? Mean(store) : null,
            OtherMs: perJob - inJob,
            EnqueueMs: hasStages ? enqueue / jobs : null,
            QueueWaitMs: queueWaits.Count > 0 ? Statistics.Median(queueWaits) : null);
    }

    private static double Median(List<RunMeasurement> runs)
    {
        var walls = new double[runs.Count];
        for (int i = 0; i < walls.Length; i++) walls[i] = runs[i].WallMs;
        return Statistics.Median(walls);
    }

    private static TimeStats Stats(double[] values) => new(
        Statistics.Median(values), Statistics.Minimum(values), Statistics.Maximum(values),
        values.Length > 1 ? Statistics.StandardDeviation(values) : 0,
        Statistics.Quantile(values, 0.95));

    /// <summary>SHA-256 over every output's checksum, in order.</summary>
    private static string Checksum(string[] checksums)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var checksum in checksums) hash.AppendData(Encoding.ASCII.GetBytes(checksum));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private int HangfireWorkers() => Math.Max(NodesApi.Snapshot(hangfireStorage, time).Workers, 1);

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string SimdDescription()
    {
        var parts = new List<string>();
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) parts.Add("Vector512");
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) parts.Add("Vector256");
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated) parts.Add("Vector128");
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported) parts.Add("FMA");
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) parts.Add("AVX2");
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) parts.Add("AVX-512F");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) parts.Add("AdvSIMD");
        return parts.Count == 0 ? "scalar" : string.Join(", ", parts);
    }
}
