using ConvService.Observability;
using ConvService.Storage;
using Hangfire;

namespace ConvService.Jobs;

/// <summary>What DELETE did to a job.</summary>
public enum DeleteOutcome
{
    /// <summary>No such job.</summary>
    NotFound,
    /// <summary>It was queued or running and is now cancelled.</summary>
    Cancelled,
    /// <summary>It had finished; it and its result are gone.</summary>
    Deleted,
}

/// <summary>Waiting for, cancelling and deleting jobs — shared by the jobs API and the benchmark runner.</summary>
public sealed class ConvolutionJobLifecycle(IJobStore jobs, IArrayStore arrays, IBackgroundJobClient hangfire, JobSignals signals, TimeProvider time, IJobMetrics metrics)
{
    // Jobs may finish on another node, whose signal never reaches this process; the store is polled this often too.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Waits up to <paramref name="timeout"/> for the job to finish; returns its latest record (null when unknown).</summary>
    public async Task<ConvolutionJobRecord?> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var completed = signals.WhenCompleted(id); // before the read, so a completion in between is not missed
            var record = await jobs.TryGetAsync(id, cancellationToken);
            if (record is null || record.Status.IsFinished())
            {
                signals.Completed(id); // wake other waiters and drop the registration
                return record;
            }
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return record;
            await Task.WhenAny(completed, Task.Delay(remaining < PollInterval ? remaining : PollInterval, time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Cancels a queued or running job, or deletes a finished one with its result.</summary>
    public async Task<(DeleteOutcome Outcome, ConvolutionJobRecord? Record)> CancelOrDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var (record, cancelled) = await jobs.UpdateAsync(id, current => current.Status.IsFinished() ? null : current with
        {
            Status = JobStatus.Cancelled,
            FinishedAt = time.GetUtcNow(),
            Error = "Cancelled by request.",
        }, cancellationToken);
        if (record is null) return (DeleteOutcome.NotFound, null);
        if (cancelled)
        {
            await JobInputs.ReleaseAsync(arrays, record);
            metrics.Finished(record.Method, JobStatus.Cancelled, computeMs: null);
            signals.TryCancelRunning(id);
            if (record.HangfireJobId is { } hangfireId) hangfire.Delete(hangfireId); // dashboard shows it deleted; other nodes stop it
            signals.Completed(id);
            return (DeleteOutcome.Cancelled, record);
        }

        await jobs.DeleteAsync(id, cancellationToken);
        if (record.Result?.ArrayId is { } resultId && !await jobs.IsResultReferencedAsync(resultId, id, cancellationToken))
            await arrays.DeleteAsync(resultId, cancellationToken);
        return (DeleteOutcome.Deleted, record);
    }
}
