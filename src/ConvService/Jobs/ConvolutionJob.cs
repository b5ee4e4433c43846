using System.Diagnostics;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Microsoft.Extensions.Options;

namespace ConvService.Jobs;

/// <summary>
/// The Hangfire job behind <c>POST /convolutions</c> and the benchmark's <c>hangfire</c> strategy: loads the
/// inputs by id, convolves, stores the result once and records the outcome. Its only argument is the job id.
/// </summary>
/// <remarks>
/// Convolution is deterministic, so a failure would fail again: no automatic retries — except when the job or
/// array store was unreachable (<see cref="StorageUnavailableException"/>), which says nothing about the job: then
/// Hangfire runs it again later instead of failing an accepted job for a database blip. A job that Hangfire
/// re-delivers after a crash finds its record: finished → nothing to do; otherwise it recomputes, and the
/// content-addressed result store makes the second write a no-op.
/// </remarks>
// The queue is an attribute, not only the EnqueuedState the submitter creates: Hangfire re-enqueues a retried job
// (after a storage outage) through its elect-state filters, and without the attribute it went to the 'default' queue,
// which no server serves, leaving the record 'running' forever. GPU jobs enter through RunOnGpuAsync.
[Queue(QueueNames.Convolutions)]
[AutomaticRetry(Attempts = 20, DelaysInSeconds = [1, 2, 5, 10, 15, 30], OnlyOn = [typeof(StorageUnavailableException)],
    OnAttemptsExceeded = AttemptsExceededAction.Fail)]
public sealed class ConvolutionJob(
    IJobStore jobs, IArrayStore arrays, ResultBufferPool resultBuffers, JobSignals signals, TimeProvider time,
    IOptions<ConvServiceOptions> options, ILogger<ConvolutionJob> logger, ConvolutionJobLifecycle lifecycle, GpuRunner gpu, IStorageFaults faults)
{
    /// <summary>Runs job <paramref name="jobId"/> of method 'gpu': the same job, on the gpu queue (served only by nodes with a device).</summary>
    /// <exception cref="StorageUnavailableException">A store was unreachable; Hangfire retries the job.</exception>
    [Queue(QueueNames.Gpu)]
    public Task RunOnGpuAsync(string jobId, CancellationToken cancellationToken) => RunAsync(jobId, cancellationToken);

    /// <summary>Runs job <paramref name="jobId"/>.</summary>
    /// <exception cref="StorageUnavailableException">A store was unreachable; Hangfire retries the job.</exception>
    public async Task RunAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await RunCoreAsync(jobId, cancellationToken);
        }
        catch (Exception e) when (e is not StorageUnavailableException && faults.IsUnavailable(e))
        {
            // Not the job's fault and not recorded as its failure: the record keeps its status and the next attempt resumes it.
            throw new StorageUnavailableException($"Job {jobId} could not reach its stores: {e.Message}", e);
        }
    }

    private async Task RunCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        string node = options.Value.EffectiveNodeName;
        long t0 = Stopwatch.GetTimestamp();
        var (record, started) = await jobs.UpdateAsync(jobId, current => current.Status.IsFinished() ? null : current with
        {
            Status = JobStatus.Running,
            StartedAt = current.StartedAt ?? time.GetUtcNow(),
            Node = node,
            Attempts = current.Attempts + 1,
        }, CancellationToken.None);
        if (record is null || !started)
        {
            // Deleted, cancelled while queued, or already finished by an earlier delivery: nothing to run twice.
            logger.LogDebug("Job {JobId} has nothing to run ({Status}).", jobId, record?.Status.ToString() ?? "deleted");
            return;
        }
        if (record.Attempts > 1)
            logger.LogWarning("Job {JobId} is running again (attempt {Attempt}) after an interrupted run.", jobId, record.Attempts);

        using var userCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var registration = signals.Running(jobId, userCancel);
        try
        {
            long t1 = Stopwatch.GetTimestamp();
            var owned = arrays.For(record.Owner); // the submitting key's namespace: inputs and results live there
            var image = await owned.TryGetAsync(record.Request.Image.ArrayId, CancellationToken.None);
            var kernelRefs = record.Request.AllKernels;
            var kernels = new Array2D[kernelRefs.Count];
            for (int k = 0; k < kernels.Length && image is not null; k++)
                if ((kernels[k] = (await owned.TryGetAsync(kernelRefs[k].ArrayId, CancellationToken.None))!) is null) image = null;
            if (image is null)
            {
                await FinishAsync(record, JobStatus.Failed, error: "An input array is no longer in the array store; resubmit the job with its data.");
                return;
            }

            var convolutionOptions = RequestParsing.ToCoreOptions(record.Request, record.Method);
            if (record.Request.Kernels is not null)
            {
                var (results, bankStages) = await RunBankAsync(record, image, kernels, convolutionOptions, t0, t1, userCancel.Token);
                await FinishAsync(record, JobStatus.Succeeded, computeMs: bankStages.ConvolveMs, results: results, stages: bankStages);
                return;
            }
            var kernel = kernels[0];
            var (rows, cols) = Convolver.OutputShape(image.Rows, image.Cols, kernel.Rows, kernel.Cols, convolutionOptions);
            var output = resultBuffers.Rent(rows, cols);
            bool kept = false; // by the store from now on; otherwise the buffer goes back to the pool
            JobStages stages;
            JobResultSummary summary;
            try
            {
                // The checksum and statistics ride along the convolution, band by band, while each band is in cache.
                var digest = new ResultDigest(rows, cols);
                long t2 = Stopwatch.GetTimestamp();
                if (convolutionOptions.Method == ConvolutionMethod.Gpu)
                    gpu.Convolve(image, record.Request.Image.ArrayId, kernel, record.Request.Kernel.ArrayId, convolutionOptions, output);
                else
                    Convolver.Convolve2D(image, kernel, convolutionOptions, output, digest, userCancel.Token);
                long t3 = Stopwatch.GetTimestamp();
                double digestMs = digest.Elapsed.TotalMilliseconds; // spent inside the convolution's band loop (none on a GPU)
                if (convolutionOptions.Method == ConvolutionMethod.Gpu) digest.AddAll(output); // the device writes no bands: one pass on the host
                var (checksum, statistics) = digest.Finish();
                long t4 = Stopwatch.GetTimestamp();
                var put = await owned.PutBufferAsync(output, ArrayId.ForResult(jobId, checksum, Computation(record)), CancellationToken.None);
                kept = put.KeptBuffer;
                summary = Summarize(output, put.Info, statistics);
                long t5 = Stopwatch.GetTimestamp();
                stages = new JobStages(Ms(t0, t1), Ms(t1, t2), Ms(t2, t3) - digestMs, digestMs + Ms(t3, t4), Ms(t4, t5));
            }
            finally
            {
                // Already stored, copied out, or failed: the buffer is free again before the job is seen as finished.
                if (!kept) resultBuffers.Return(output);
            }
            await FinishAsync(record, JobStatus.Succeeded, computeMs: stages.ConvolveMs, result: summary, stages: stages);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Our own token fired: a user cancelled it (DELETE already recorded that).
            await FinishAsync(record, JobStatus.Cancelled, error: "Cancelled by request.");
        }
        catch (OperationCanceledException)
        {
            // Hangfire's token: the server is shutting down. Rethrow so Hangfire re-queues the job.
            throw;
        }
        catch (Exception e) when (e is ConvolutionRefusedException or ArrayStoreFullException or ArrayFormatException or OutOfMemoryException)
        {
            await FinishAsync(record, JobStatus.Failed, error: e.Message);
            throw; // Hangfire marks it failed too (no retries), so the dashboard agrees with the API.
        }
        catch (Exception e) when (!faults.IsUnavailable(e))
        {
            logger.LogError(e, "Job {JobId} failed unexpectedly.", jobId);
            await FinishAsync(record, JobStatus.Failed, error: "The job failed unexpectedly: " + e.GetType().Name + ". It was not retried.");
            throw;
        }
    }

    /// <summary>
    /// A filter bank: every kernel in one pass over the image (<see cref="Convolver"/>'s bank overload), each output digested
    /// band by band and stored under its own id, derived from the job id and the kernel's index.
    /// </summary>
    private async Task<(JobResultSummary[] Results, JobStages Stages)> RunBankAsync(ConvolutionJobRecord record, Array2D image, Array2D[] kernels,
        ConvolutionOptions convolutionOptions, long t0, long t1, CancellationToken cancellationToken)
    {
        var (rows, cols) = Convolver.OutputShape(image.Rows, image.Cols, kernels[0].Rows, kernels[0].Cols, convolutionOptions);
        var outputs = new Array2D[kernels.Length];
        var kept = new bool[kernels.Length];
        try
        {
            var digests = new ResultDigest[kernels.Length];
            for (int k = 0; k < kernels.Length; k++)
            {
                outputs[k] = resultBuffers.Rent(rows, cols);
                digests[k] = new ResultDigest(rows, cols);
            }
            long t2 = Stopwatch.GetTimestamp();
            Convolver.Convolve2D(image, kernels, convolutionOptions, outputs, digests, cancellationToken);
            long t3 = Stopwatch.GetTimestamp();
            var results = new JobResultSummary[kernels.Length];
            double digestMs = 0, storeMs = 0, finishMs = 0;
            for (int k = 0; k < kernels.Length; k++)
            {
                long f0 = Stopwatch.GetTimestamp();
                var (checksum, statistics) = digests[k].Finish();
                long f1 = Stopwatch.GetTimestamp();
                var put = await arrays.For(record.Owner).PutBufferAsync(outputs[k], ArrayId.ForResult(BankResultKey(record.Id, k), checksum, Computation(record, k)), CancellationToken.None);
                kept[k] = put.KeptBuffer;
                results[k] = Summarize(outputs[k], put.Info, statistics);
                digestMs += digests[k].Elapsed.TotalMilliseconds;
                finishMs += Ms(f0, f1);
                storeMs += Ms(f1, Stopwatch.GetTimestamp());
            }
            return (results, new JobStages(Ms(t0, t1), Ms(t1, t2), Ms(t2, t3) - digestMs, digestMs + finishMs, storeMs));
        }
        finally
        {
            for (int k = 0; k < outputs.Length; k++)
                if (outputs[k] is not null && !kept[k]) resultBuffers.Return(outputs[k]);
        }
    }

    /// <summary>The key a bank's k-th result id derives from (a one-kernel job's is the job id itself).</summary>
    internal static string BankResultKey(string jobId, int index) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{jobId}/kernels/{index}");

    private async Task FinishAsync(ConvolutionJobRecord record, JobStatus status, string? error = null, double? computeMs = null,
        JobResultSummary? result = null, JobStages? stages = null, IReadOnlyList<JobResultSummary>? results = null)
    {
        // Only a running job is finished here: a DELETE that cancelled it first has already done the bookkeeping.
        await lifecycle.FinishAsync(record.Id, current => current.Status == JobStatus.Running, status, error, computeMs, result, CancellationToken.None, stages, results);
        signals.Completed(record.Id);
    }

    /// <summary>
    /// What was computed, exactly: the inputs' content ids (the bank's <paramref name="kernelIndex"/>-th kernel), the options and the
    /// concrete method (its rounding differs).
    /// </summary>
    internal static string Computation(ConvolutionJobRecord record, int kernelIndex = 0)
    {
        var r = record.Request;
        // A correlation is another computation on the same inputs; convolutions keep the key they always had.
        // Words, not enum names: the key derives stored result ids, which must not change with a rename.
        string operation = r.Operation is { } o ? "|" + RequestParsing.Word(o) : "";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{r.Image.ArrayId}|{r.AllKernels[kernelIndex].ArrayId}|{RequestParsing.Word(r.Mode)}|{RequestParsing.Word(r.Boundary)}|{BitConverter.DoubleToInt64Bits(r.FillValue):x16}|{r.Stride[0]}|{r.Stride[1]}|{RequestParsing.Word(record.Method)}{operation}");
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <summary>
    /// A result's summary from statistics already gathered (by the <see cref="ResultDigest"/> fused into the convolution);
    /// the checksum and id come from the store.
    /// </summary>
    public static JobResultSummary Summarize(Array2D output, StoredArrayInfo stored, in ArrayStatistics statistics)
    {
        int[] shape = [output.Rows, output.Cols];
        if (output.IsEmpty) return new JobResultSummary(shape, null, null, null, stored.Sha256, stored.Id, stored.Checksum);
        return new JobResultSummary(shape, statistics.Min, statistics.Max, statistics.Sum / output.Length, stored.Sha256, stored.Id, stored.Checksum);
    }
}
