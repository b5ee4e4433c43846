using ConvService.Model;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace ConvService.Jobs;

/// <summary>
/// Keeps our records in step with Hangfire's final states, so no record stays <c>queued</c> or <c>running</c> forever:
/// when Hangfire fails a job (after the last storage-unavailable retry) the record becomes <c>failed</c>; when a job is
/// deleted outside our API (the dashboard) it becomes <c>cancelled</c>. Each goes through the one transition to a final
/// status (each job kind's <see cref="IJobRecordFinisher"/>), which releases the pins; a record already final (our own
/// DELETE, a job that recorded its failure itself) is left alone.
/// </summary>
/// <remarks>
/// Registered per host through <see cref="HostJobFilterProvider"/>, not in Hangfire's process-wide filter list: a filter
/// there would outlive its host and act on other hosts' jobs (tests run several hosts in one process).
/// </remarks>
public sealed class JobRecordStateFilter(IServiceProvider services, ILogger<JobRecordStateFilter> logger) : IApplyStateFilter
{
    // Resolved on first use: the convolution finisher needs the lifecycle, which needs Hangfire's client, whose state
    // changer needs this filter.
    private IJobRecordFinisher[] Finishers => field ??= [.. services.GetServices<IJobRecordFinisher>()];

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
        if (Array.Find(Finishers, f => f.JobType == job.Type) is not { } finisher) return;
        try
        {
            // Hangfire's state machine is synchronous; the stores answer in milliseconds.
            finisher.FinishAsync(id, status, error).GetAwaiter().GetResult();
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
}
