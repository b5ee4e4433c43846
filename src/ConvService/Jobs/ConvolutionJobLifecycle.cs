using ConvService.Model;

using ConvService.Observability;
using ConvService.Storage;
using Hangfire;

namespace ConvService.Jobs;

/// <summary>Waiting for, cancelling and deleting jobs — shared by the jobs API and the benchmark runner.</summary>
public sealed class ConvolutionJobLifecycle(IJobStore jobs, IArrayStore arrays, IBackgroundJobClient hangfire, JobSignals signals, TimeProvider time, IJobMetrics metrics)
{
    /// <summary>Waits up to <paramref name="timeout"/> for the job to finish; returns its latest record (null when unknown).</summary>
    public Task<ConvolutionJobRecord?> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken) =>
        signals.WaitUntilFinishedAsync(id, ct => jobs.TryGetAsync(id, ct), static r => r.Status.IsFinished(), timeout, time, cancellationToken);

    /// <summary>
    /// The one transition to a final status, made only while <paramref name="canFinish"/> holds for the stored record.
    /// On that transition — once per job, whichever of its worker and a DELETE gets there first — the inputs are
    /// unpinned and the outcome is counted. Returns the latest record (null when unknown) and whether this call finished it.
    /// </summary>
    public async Task<(ConvolutionJobRecord? Record, bool Finished)> FinishAsync(string id, Func<ConvolutionJobRecord, bool> canFinish, JobStatus status,
        string? error, double? computeMs, JobResultSummary? result, CancellationToken cancellationToken, JobStages? stages = null,
        IReadOnlyList<JobResultSummary>? results = null)
    {
        var (record, finished) = await jobs.UpdateAsync(id, current => !canFinish(current) ? null : current with
        {
            Status = status,
            FinishedAt = time.GetUtcNow(),
            Error = error,
            ComputeMs = computeMs,
            Stages = stages,
            Result = result,
            Results = results,
        }, cancellationToken);
        if (finished)
        {
            await JobInputs.ReleaseAsync(arrays, record!);
            metrics.Finished(RequestParsing.Word(record!.Method), status, computeMs);
        }
        return (record, finished);
    }

    /// <summary>Cancels a queued or running job, or deletes a finished one with its result.</summary>
    public async Task<(DeleteOutcome Outcome, ConvolutionJobRecord? Record)> CancelOrDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var (record, cancelled) = await FinishAsync(id, current => !current.Status.IsFinished(), JobStatus.Cancelled, "Cancelled by request.",
            computeMs: null, result: null, cancellationToken);
        if (record is null) return (DeleteOutcome.NotFound, null);
        if (cancelled)
        {
            signals.TryCancelRunning(id);
            if (record.HangfireJobId is { } hangfireId) hangfire.Delete(hangfireId); // dashboard shows it deleted; other nodes stop it
            signals.Completed(id);
            return (DeleteOutcome.Cancelled, record);
        }

        await jobs.DeleteAsync(id, cancellationToken);
        if (record.Result?.ArrayId is { } resultId && !await jobs.IsResultReferencedAsync(resultId, id, cancellationToken))
            await arrays.For(record.Owner).DeleteAsync(resultId, cancellationToken);
        // A bank's result ids derive from its own job id and index: no other job's record names them.
        foreach (var bankResult in record.Results ?? [])
            await arrays.For(record.Owner).DeleteAsync(bankResult.ArrayId, cancellationToken);
        return (DeleteOutcome.Deleted, record);
    }
}
