using ConvService.Model;
using ConvService.Storage;
using Hangfire;
using Hangfire.States;

namespace ConvService.Jobs;

/// <summary>
/// Finds job records that are <c>queued</c> or <c>running</c> while no live Hangfire job will ever run them, and puts
/// them right: enqueues them again (or cancels those deleted in the dashboard).
/// </summary>
/// <remarks>
/// <para>
/// Why it exists (measured: <c>kill -9</c> of PostgreSQL for 44 s under load left 3 of 2,843 accepted jobs unfinished
/// for good). When a worker cannot change a job's state ten times in a row (Hangfire's <c>Worker</c> waits 0, 1, … 9 s
/// between attempts, ~45 s in all), its last resort moves the job to <c>Failed</c> <em>with every filter disabled</em>
/// and removes it from the queue. Neither <c>AutomaticRetry</c> (which would have retried a storage outage) nor
/// <see cref="JobRecordStateFilter"/> (which would have finished our record) sees that transition, so the record stayed
/// <c>queued</c> (attempts 0: the outage hit the Processing transition) or <c>running</c> (it hit the transition after
/// the run) forever. The same end state follows any crash between our record's commit and Hangfire's.
/// </para>
/// <para>
/// A record counts as orphaned when it has not changed for <c>ConvService:PostgreSql:OrphanedJobCheckSeconds</c>
/// and its Hangfire job (by the recorded id, or by its argument when the id was never recorded) is neither in a queue
/// row (enqueued, or fetched and kept alive by a worker) nor scheduled or awaiting. A deleted one is cancelled (a
/// dashboard delete whose filter missed); any other is enqueued again: failed without filters, succeeded without
/// finishing the record, or missing. Missing covers a crash between the record's commit and Hangfire's (whose commits
/// are asynchronous: <c>ConvService:PostgreSql:HangfireSynchronousCommit</c>), after which the client may have
/// been answered 202 — or 503 when the submitter's undo failed too; then the job runs although the client was told
/// nothing was accepted (extra work, never a lost one). Re-running is safe:
/// a job that finds its record finished does nothing, and a result is stored under the same id twice at most.
/// One node at a time (an advisory lock); each pass looks at a bounded batch.
/// </para>
/// </remarks>
public sealed class OrphanedJobReconciler(IOrphanedJobSource orphans, IServiceProvider services, IJobStore jobs, ILogger<OrphanedJobReconciler> logger) : BackgroundService
{
    /// <summary>What one pass did.</summary>
    public sealed record Outcome(int Requeued, int Cancelled);

    /// <summary>One pass: finds orphaned records and repairs them. Returns zeros when another node holds the pass.</summary>
    public async Task<Outcome> ReconcileAsync(CancellationToken cancellationToken)
    {
        var outcome = new Outcome(0, 0);
        await orphans.RepairAsync(async (found, ct) => outcome = await RepairAsync(found, ct), cancellationToken);
        return outcome;
    }

    private async Task<Outcome> RepairAsync(IReadOnlyList<OrphanedJob> found, CancellationToken cancellationToken)
    {
        // Resolved here: the lifecycle needs Hangfire's client, whose state changer needs the filters that need the stores.
        var hangfire = services.GetRequiredService<IBackgroundJobClient>();
        var lifecycle = services.GetRequiredService<ConvolutionJobLifecycle>();
        int requeued = 0, cancelled = 0;
        foreach (var (id, method, deleted) in found)
        {
            if (!deleted)
            {
                var (job, queue) = ConvolutionJobs.For(id, method);
                string hangfireId = hangfire.Create(job, new EnqueuedState(queue));
                var (_, changed) = await jobs.UpdateAsync(id, current => current.Status.IsFinished() ? null : current with { HangfireJobId = hangfireId }, cancellationToken);
                if (!changed) continue;
                requeued++;
                logger.LogWarning("Job {JobId} was unfinished but no live Hangfire job would run it: enqueued again as Hangfire job {HangfireJobId}.", id, hangfireId);
                continue;
            }
            var (_, finished) = await lifecycle.FinishAsync(id, current => !current.Status.IsFinished(), JobStatus.Cancelled, "Deleted in the Hangfire dashboard.",
                computeMs: null, result: null, cancellationToken);
            if (!finished) continue;
            cancelled++;
            logger.LogWarning("Job {JobId} is cancelled: its Hangfire job was deleted in the dashboard.", id);
        }
        return new Outcome(requeued, cancelled);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(orphans.CheckInterval);
        do
        {
            try
            {
                var outcome = await ReconcileAsync(stoppingToken);
                if (outcome != new Outcome(0, 0))
                    logger.LogWarning("Reconciled orphaned jobs: {Requeued} enqueued again, {Cancelled} cancelled.", outcome.Requeued, outcome.Cancelled);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Database down, or Hangfire's tables not created yet: the next tick tries again.
                logger.LogDebug(e, "Could not reconcile orphaned jobs.");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
