using ConvService.Benchmarks;
using ConvService.Storage;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace ConvService.Jobs;

/// <summary>
/// Keeps our records in step with Hangfire's final states, so no record stays <c>queued</c> or <c>running</c> forever:
/// when Hangfire fails a job (after the last storage-unavailable retry) the record becomes <c>failed</c>; when a job is
/// deleted outside our API (the dashboard) it becomes <c>cancelled</c>. Each goes through the one transition to a final
/// status (<see cref="ConvolutionJobLifecycle.FinishAsync"/>), which releases the pins; a record already final (our own
/// DELETE, a job that recorded its failure itself) is left alone.
/// </summary>
/// <remarks>
/// Registered per host through <see cref="HostJobFilterProvider"/>, not in Hangfire's process-wide filter list: a filter
/// there would outlive its host and act on other hosts' jobs (tests run several hosts in one process).
/// </remarks>
public sealed class JobRecordStateFilter(IServiceProvider services, IBenchmarkStore benchmarks, IArrayStore arrays, JobSignals signals,
    TimeProvider time, ILogger<JobRecordStateFilter> logger) : IApplyStateFilter
{
    // Resolved on first use: the lifecycle needs Hangfire's client, whose state changer needs this filter.
    private ConvolutionJobLifecycle Lifecycle => services.GetRequiredService<ConvolutionJobLifecycle>();

    /// <inheritdoc />
    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        (JobStatus status, string? error) = context.NewState switch
        {
            FailedState failed => (JobStatus.Failed, $"Hangfire gave the job up: {failed.Exception?.GetType().Name}: {failed.Exception?.Message}"),
            DeletedState => (JobStatus.Cancelled, "Deleted in the Hangfire dashboard."),
            _ => (JobStatus.Queued, null), // not final: nothing to do
        };
        if (error is null || context.BackgroundJob.Job is not { Args: [string id, ..] } job) return;
        try
        {
            // Hangfire's state machine is synchronous; the stores answer in milliseconds.
            if (job.Type == typeof(ConvolutionJob)) FinishJobAsync(id, status, error).GetAwaiter().GetResult();
            else if (job.Type == typeof(BenchmarkJob)) FinishBenchmarkAsync(id, status, error).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            // The store is down (the likely reason a job was given up): the record cannot be finished now; say so loudly.
            logger.LogError(e, "Hangfire moved {Type} {Id} to {State}, but its record could not be finished.", job.Type.Name, id, context.NewState.Name);
        }
    }

    /// <inheritdoc />
    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }

    private async Task FinishJobAsync(string id, JobStatus status, string error)
    {
        var (_, finished) = await Lifecycle.FinishAsync(id, current => !current.Status.IsFinished(), status, error, computeMs: null, result: null, CancellationToken.None);
        if (!finished) return;
        signals.TryCancelRunning(id); // a run on this node stops now, not at its next cancellation check
        signals.Completed(id);
        logger.LogWarning("Job {JobId} is {Status}: {Error}", id, status, error);
    }

    private async Task FinishBenchmarkAsync(string id, JobStatus status, string error)
    {
        var (report, finished) = await benchmarks.UpdateAsync(id, current => current.Status.IsFinished() ? null : current with
        {
            Status = status,
            FinishedAt = time.GetUtcNow(),
            Error = error,
        }, CancellationToken.None);
        if (!finished) return;
        // A run releases its inputs when it unwinds; one that never started never will.
        if (!signals.TryCancelRunning(id) && report!.StartedAt is null) await BenchmarkInputs.ReleaseAsync(arrays, report);
        signals.Completed(id);
        logger.LogWarning("Benchmark {BenchmarkId} is {Status}: {Error}", id, status, error);
    }
}

/// <summary>Hangfire's global filters plus this host's <see cref="StorageOutageRetryFilter"/> and <see cref="JobRecordStateFilter"/> (see its remarks).</summary>
public sealed class HostJobFilterProvider(JobRecordStateFilter filter, StorageOutageRetryFilter outageRetry) : IJobFilterProvider
{
    /// <inheritdoc />
    public IEnumerable<JobFilter> GetFilters(Job job)
    {
        // Hangfire runs election filters in the order a provider lists them: the outage filter comes before the job
        // type's [AutomaticRetry] (listed among the global providers' filters), so the retry attribute sees its re-wrapped exception.
        yield return new JobFilter(outageRetry, JobFilterScope.Global, null);
        foreach (var global in JobFilterProviders.Providers.GetFilters(job)) yield return global;
        yield return new JobFilter(filter, JobFilterScope.Global, null);
    }
}
