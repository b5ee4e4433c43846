using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Jobs;
using ConvService.Model;
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
    INodeDirectory nodes, BenchmarkProgressBoard progressBoard, TimeProvider time, IOptions<ConvServiceOptions> options, BenchmarkThreads threads, GpuRunner gpu)
{
    private readonly ConvServiceOptions _options = options.Value;

    /// <summary>One repetition of one strategy. <paramref name="ChecksumMs"/> per output for the thread strategies; <paramref name="Stages"/> and the enqueue/queue times only for hangfire.</summary>
    private sealed record RunMeasurement(double WallMs, double[] ComputeMs, string[] Checksums, Dictionary<string, int>? Nodes,
        JobStages[]? Stages = null, double EnqueueMs = 0, double[]? QueueWaitMs = null, double[]? ChecksumMs = null,
        double[]? CopyMs = null, double? MaxRelativeError = null);

    /// <summary>
    /// How far a GPU strategy's outputs may be from the CPU direct method's (relative to the output's largest magnitude):
    /// the device sums in another order and may fuse multiply-adds, so its outputs are compared by value, not by checksum.
    /// </summary>
    public const double GpuTolerance = 1e-12;

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
        var progress = progressBoard.Start(report.Id);
        // Sampled between strategy runs, when none of this benchmark's own jobs are active: anything counted is someone else's.
        int concurrent = await jobs.CountActiveAsync(cancellationToken);
        var measurements = new Dictionary<BenchmarkStrategy, List<RunMeasurement>>();
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
                        BenchmarkStrategy.Serial => RunThreads(image, kernels, plan.Iterations, coreOptions, 1, progress, cancellationToken),
                        BenchmarkStrategy.Parallel => RunThreads(image, kernels, plan.Iterations, coreOptions, workers, progress, cancellationToken),
                        BenchmarkStrategy.ParallelRows => RunThreads(image, kernels, plan.Iterations, coreOptions with { Threads = workers }, 1, progress, cancellationToken),
                        BenchmarkStrategy.Fused => RunFused(image, kernels, plan.Iterations, coreOptions with { Threads = workers }, progress, cancellationToken),
                        BenchmarkStrategy.Hangfire => await RunHangfireAsync(report.Id, template, plan, progress, cancellationToken),
                        BenchmarkStrategy.HangfireFused => await RunHangfireAsync(report.Id, template, plan, progress, cancellationToken, fused: true),
                        BenchmarkStrategy.Gpu => RunGpu(image, kernels, plan, coreOptions, fused: false, progress, cancellationToken),
                        BenchmarkStrategy.GpuFused => RunGpu(image, kernels, plan, coreOptions, fused: true, progress, cancellationToken),
                        _ => throw new InvalidOperationException($"Unknown strategy {strategy}."),
                    };
                    if (round >= plan.Warmup) measurements[strategy].Add(run);
                    concurrent = Math.Max(concurrent, await jobs.CountActiveAsync(cancellationToken));
                }
            }
        }
        finally
        {
            progressBoard.Stop(report.Id);
        }

        var results = new List<StrategyResult>();
        double? serialMedian = measurements.TryGetValue(BenchmarkStrategy.Serial, out var serialRuns) ? Median(serialRuns) : null;
        foreach (var strategy in plan.Strategies)
        {
            var runs = measurements[strategy];
            int strategyWorkers = strategy switch { BenchmarkStrategy.Serial or BenchmarkStrategy.Gpu or BenchmarkStrategy.GpuFused => 1, BenchmarkStrategy.Hangfire or BenchmarkStrategy.HangfireFused => hangfireWorkers, _ => workers };
            results.Add(Summarize(strategy, runs, plan.ConvolutionsPerRun, strategyWorkers, serialMedian));
        }
        // CPU strategies agree bit for bit (one checksum); GPU strategies within GpuTolerance of the CPU direct method.
        string? cpuChecksum = results.FirstOrDefault(r => r.MaxRelativeError is null)?.Checksum;
        bool agree = true;
        foreach (var runs in measurements.Values)
            foreach (var run in runs)
                agree &= run.MaxRelativeError is { } error ? error <= GpuTolerance : Checksum(run.Checksums) == cpuChecksum;

        var build = BuildInfo.Current;
        var environment = new BenchmarkEnvironment(
            Environment.ProcessorCount, workers, hangfireWorkers, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            CpuModel(), SimdDescription(), (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent"),
            concurrent, _options.EffectiveNodeName, build.Configuration, build.TieredCompilation, gpu.Accelerators);
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
        BenchmarkProgressCounter progress, CancellationToken cancellationToken)
    {
        int n = iterations * kernels.Length;
        var compute = new double[n];
        var checksumMs = new double[n];
        var checksums = new string[n];
        // One output buffer and digest per thread, reused: each output is checksummed and dropped, as a loop over convolve2d
        // drops its results, and a reused buffer is warm where a fresh one pays a page fault per 4 KB (see ResultBufferPool).
        // The hangfire strategy gets the same from the pool and the store's sharing of identical results.
        var (rows, cols, outputs, digests) = OutputsAndDigests(image, kernels[0], options, threadCount);
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
                progress.Add(1);
            }
        });
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return new RunMeasurement(wall, compute, checksums, null, ChecksumMs: checksumMs);
    }

    /// <summary>
    /// Fused: each iteration is one filter bank over all the filters (<see cref="Convolver"/>'s bank overload), so the image is
    /// read once per iteration instead of once per filter; the bank's row bands spread over <paramref name="options"/>.Threads.
    /// Outputs are checksummed band by band and recorded in the other strategies' order (iteration, then filter).
    /// </summary>
    /// <summary>
    /// gpu (one launch per convolution) and gpu-fused (one launch per iteration's bank), on this node's device, the image
    /// and filters resident there after the warm-up (copied once, as a benchmark should measure compute): the launch is
    /// the convolution; the download and any upload are <c>copyMs</c>; each output is checksummed on the host and compared
    /// with the CPU direct method's within <see cref="GpuTolerance"/>.
    /// </summary>
    private RunMeasurement RunGpu(Array2D image, Array2D[] kernels, NormalizedBenchmark plan, ConvolutionOptions options, bool fused,
        BenchmarkProgressCounter progress, CancellationToken cancellationToken)
    {
        var device = gpu.Convolver ?? throw new InvalidOperationException(
            "This node has no GPU, so the gpu strategies cannot run here: run the benchmark on a node with a CUDA device, or drop gpu and gpu-fused.");
        int k = kernels.Length, n = plan.Iterations * k;
        var compute = new double[n];
        var copy = new double[n];
        var checksumMs = new double[n];
        var checksums = new string[n];
        var (rows, cols, outputs, digests) = OutputsAndDigests(image, kernels[0], options, k);
        string[] kernelKeys = plan.Kernel.ArrayIds;
        long start = Stopwatch.GetTimestamp();
        for (int it = 0; it < plan.Iterations; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (fused)
            {
                var t = device.Convolve2D(image, kernels, options, outputs, plan.Image.ArrayId, kernelKeys);
                for (int f = 0; f < k; f++)
                {
                    compute[it * k + f] = t.KernelMs / k;
                    copy[it * k + f] = (t.UploadMs + t.DownloadMs) / k;
                }
            }
            else
            {
                for (int f = 0; f < k; f++)
                {
                    var t = device.Convolve2D(image, kernels[f], options, outputs[f], plan.Image.ArrayId, kernelKeys[f]);
                    compute[it * k + f] = t.KernelMs;
                    copy[it * k + f] = t.UploadMs + t.DownloadMs;
                }
            }
            for (int f = 0; f < k; f++)
            {
                int i = it * k + f;
                digests[f].Reset(rows, cols);
                digests[f].AddAll(outputs[f]);
                checksums[i] = digests[f].Finish().Checksum;
                checksumMs[i] = digests[f].Elapsed.TotalMilliseconds;
            }
            progress.Add(k);
        }
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        // Outside the clock: the last outputs against the CPU direct method, one per filter.
        double maxError = 0;
        for (int f = 0; f < k; f++)
        {
            var cpu = Convolver.Convolve2D(image, kernels[f], options with { Method = ConvolutionMethod.Direct, Threads = 1 }, cancellationToken);
            double scale = 0;
            foreach (double v in cpu.Data) scale = Math.Max(scale, Math.Abs(v));
            scale = Math.Max(scale, double.Epsilon);
            var got = outputs[f].Data;
            for (int i = 0; i < cpu.Data.Length; i++)
            {
                double d = Math.Abs(cpu.Data[i] - got[i]);
                if (double.IsNaN(d) && !double.IsNaN(cpu.Data[i] + got[i])) d = double.PositiveInfinity;
                if (!double.IsNaN(d)) maxError = Math.Max(maxError, d / scale);
            }
        }
        return new RunMeasurement(wall, compute, checksums, null, ChecksumMs: checksumMs, CopyMs: copy, MaxRelativeError: maxError);
    }

    private static RunMeasurement RunFused(Array2D image, Array2D[] kernels, int iterations, ConvolutionOptions options,
        BenchmarkProgressCounter progress, CancellationToken cancellationToken)
    {
        int k = kernels.Length, n = iterations * k;
        var compute = new double[n];
        var checksumMs = new double[n];
        var checksums = new string[n];
        // One reused buffer and digest per filter, as the thread strategies reuse one per thread.
        var (rows, cols, outputs, digests) = OutputsAndDigests(image, kernels[0], options, k);
        long start = Stopwatch.GetTimestamp();
        for (int it = 0; it < iterations; it++)
        {
            long t0 = Stopwatch.GetTimestamp();
            foreach (var digest in digests) digest.Reset(rows, cols);
            Convolver.Convolve2D(image, kernels, options, outputs, digests, cancellationToken);
            // The bank's time is shared evenly by its outputs: one pass computes them all.
            double bankMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            for (int f = 0; f < k; f++)
            {
                int i = it * k + f;
                checksums[i] = digests[f].Finish().Checksum;
                checksumMs[i] = digests[f].Elapsed.TotalMilliseconds;
            }
            for (int f = 0; f < k; f++)
            {
                int i = it * k + f;
                compute[i] = bankMs / k - checksumMs[i];
            }
            progress.Add(k);
        }
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return new RunMeasurement(wall, compute, checksums, null, ChecksumMs: checksumMs);
    }

    /// <summary><paramref name="count"/> reusable output buffers of this convolution's shape, each with its digest.</summary>
    private static (int Rows, int Cols, Array2D[] Outputs, ResultDigest[] Digests) OutputsAndDigests(Array2D image, Array2D kernel,
        in ConvolutionOptions options, int count)
    {
        var (rows, cols) = Convolver.OutputShape(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
        var outputs = new Array2D[count];
        var digests = new ResultDigest[count];
        for (int i = 0; i < count; i++)
        {
            outputs[i] = Array2D.CreateUninitialized(rows, cols);
            digests[i] = new ResultDigest(rows, cols);
        }
        return (rows, cols, outputs, digests);
    }

    /// <summary>
    /// Every convolution as a Hangfire job — the same <see cref="ConvolutionJob"/> that POST /convolutions runs —
    /// with the image stored once and referenced by id; with <paramref name="fused"/>, one job per iteration whose filter bank
    /// holds every filter. The clock stops when the last result is stored.
    /// </summary>
    /// <remarks>
    /// Jobs go in through a window: at most <see cref="Window"/> of this benchmark's jobs are queued at once, and none
    /// is enqueued while the queue is at <see cref="LimitsOptions.MaxQueuedJobs"/>, so a benchmark never takes the
    /// queue from users (they would get 429) and its job records and results never pile up: each job is read and
    /// forgotten as it finishes. The window keeps every worker busy (several jobs per worker are queued), so the
    /// measurement is the same as enqueueing everything first. Cancellation is checked before every enqueue.
    /// </remarks>
    private async Task<RunMeasurement> RunHangfireAsync(string benchmarkId, ConvolutionJobRecord template, NormalizedBenchmark plan,
        BenchmarkProgressCounter progress, CancellationToken cancellationToken, bool fused = false)
    {
        int n = plan.ConvolutionsPerRun, perJob = fused ? plan.Kernel.Count : 1;
        var ids = new string?[n / perJob];
        int window = Window(HangfireWorkers(), _options.Limits.MaxQueuedJobs);
        // The method was planned once for the benchmark; every job carries that plan.
        var choice = new MethodChoice(template.Method, template.MethodReason, template.MethodEstimateMs);
        ArrayReference Filter(int f) => template.Request.Kernel with { ArrayId = plan.Kernel.ArrayIds[f] };
        var bank = fused ? Enumerable.Range(0, plan.Kernel.Count).Select(Filter).ToArray() : null;
        var compute = new double[n];
        var checksums = new string[n];
        var stages = new JobStages[n];
        var queueWait = new double[n];
        var nodes = new Dictionary<string, int>(StringComparer.Ordinal);
        double enqueueMs = 0;
        int next = 0; // next job to enqueue; jobs [j, next) are outstanding
        long start = Stopwatch.GetTimestamp();
        try
        {
            for (int j = 0; j < ids.Length; j++)
            {
                while (next < ids.Length && next - j < window)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (await jobs.CountActiveAsync(cancellationToken) >= _options.Limits.MaxQueuedJobs)
                    {
                        if (next > j) break; // wait for one of ours to finish first
                        await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken); // users' jobs fill the queue: wait for room
                        continue;
                    }
                    var request = template.Request with { Kernel = Filter(next % plan.Kernel.Count), Kernels = bank };
                    long enqueueStart = Stopwatch.GetTimestamp();
                    ids[next] = (await submitter.EnqueueAsync(request, choice, benchmarkId, template.Owner, cancellationToken)).Id;
                    enqueueMs += Stopwatch.GetElapsedTime(enqueueStart).TotalMilliseconds;
                    next++;
                }
                string id = ids[j]!;
                var done = await lifecycle.WaitAsync(id, TimeSpan.FromHours(1), cancellationToken);
                if (done is not { Status: JobStatus.Succeeded, Stages: { } st } || (fused ? done.Results?.Count != perJob : done.Result?.Checksum is null))
                    throw new InvalidOperationException($"Benchmark convolution job {id} ended {done?.Status.ToString().ToLowerInvariant() ?? "deleted"}: {done?.Error}");
                // A bank job's stages are shared evenly by its outputs, so the breakdown stays per convolution.
                var share = new JobStages(st.MarkRunningMs / perJob, st.LoadInputsMs / perJob, st.ConvolveMs / perJob, st.SummarizeMs / perJob, st.StoreMs / perJob);
                for (int f = 0; f < perJob; f++)
                {
                    int i = j * perJob + f;
                    compute[i] = (done.ComputeMs ?? 0) / perJob;
                    checksums[i] = (fused ? done.Results![f].Checksum : done.Result!.Checksum)
                        ?? throw new InvalidOperationException($"Benchmark convolution job {id} has a result without a checksum.");
                    stages[i] = share;
                    queueWait[i] = done.StartedAt is { } s ? (s - done.SubmittedAt).TotalMilliseconds : 0;
                }
                string node = done.Node ?? "unknown";
                nodes[node] = nodes.GetValueOrDefault(node) + perJob;
                progress.Add(perJob);
                await ForgetAsync(id);
                ids[j] = null;
            }
            // Waiting in submission order can only observe the last completion late, never early: the wall clock is honest.
            double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return new RunMeasurement(wall, compute, checksums, nodes, stages, enqueueMs, queueWait);
        }
        finally
        {
            // Benchmark jobs are measurement, not user jobs: cancel stragglers (a failed or cancelled run), then forget the records.
            foreach (var id in ids)
                if (id is not null) await ForgetAsync(id);
        }
    }

    /// <summary>Deletes a benchmark job's record and result (cancelling it first when it has not finished).</summary>
    private async Task ForgetAsync(string id)
    {
        var (outcome, _) = await lifecycle.CancelOrDeleteAsync(id, CancellationToken.None);
        if (outcome == DeleteOutcome.Cancelled) await lifecycle.CancelOrDeleteAsync(id, CancellationToken.None);
    }

    /// <summary>
    /// The hangfire strategy's jobs queued at once: four per worker keep every worker fed while the benchmark reads
    /// results, and never more than half of <see cref="LimitsOptions.MaxQueuedJobs"/>, so users keep room.
    /// </summary>
    internal static int Window(int workers, int maxQueuedJobs) => Math.Max(1, Math.Min(4 * Math.Max(workers, 1), maxQueuedJobs / 2));

    private static StrategyResult Summarize(BenchmarkStrategy strategy, List<RunMeasurement> runs, int convolutions, int workers, double? serialMedian)
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
            Breakdown: Breakdown(runs, convolutions, workers),
            MaxRelativeError: runs.Count > 0 && runs[0].MaxRelativeError is not null ? runs.Max(r => r.MaxRelativeError ?? 0) : null);
    }

    /// <summary>
    /// Where each worker's time went, as means per convolution over every measured repetition: the parts add up to
    /// mean wall × workers ÷ convolutions. Means, not medians, so that they add up.
    /// </summary>
    private static StrategyBreakdown Breakdown(List<RunMeasurement> runs, int convolutions, int workers)
    {
        double wall = 0, convolve = 0, checksum = 0, copy = 0, markRunning = 0, load = 0, summarize = 0, store = 0, enqueue = 0;
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
                    copy += run.CopyMs?[i] ?? 0;
                }
            }
            if (run.QueueWaitMs is { } waits) queueWaits.AddRange(waits);
        }
        if (jobs == 0) return new StrategyBreakdown(0, 0, null, null, 0, null, 0, null, null);
        double perJob = wall / runs.Count * workers / convolutions;
        double Mean(double total) => total / jobs;
        // The checksum of the thread strategies and the summary stage of the job path are the same work (ResultDigest).
        double summary = hasStages ? Mean(summarize) : Mean(checksum);
        bool hasCopies = runs.Count > 0 && runs[0].CopyMs is not null;
        double inJob = Mean(convolve) + summary + Mean(copy) + (hasStages ? Mean(markRunning) + Mean(load) + Mean(store) : 0);
        return new StrategyBreakdown(
            WorkerMsPerConvolution: perJob,
            ConvolveMs: Mean(convolve),
            MarkRunningMs: hasStages ? Mean(markRunning) : null,
            LoadInputsMs: hasStages ? Mean(load) : null,
            SummarizeMs: summary,
            StoreMs: hasStages ? Mean(store) : null,
            OtherMs: perJob - inJob,
            EnqueueMs: hasStages ? enqueue / jobs : null,
            QueueWaitMs: queueWaits.Count > 0 ? Statistics.Median(queueWaits) : null,
            CopyMs: hasCopies ? Mean(copy) : null);
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

    private int HangfireWorkers() => Math.Max(nodes.Snapshot().Workers, 1);

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
