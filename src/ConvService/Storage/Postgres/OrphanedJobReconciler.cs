using ConvService.Jobs;
using Hangfire;
using Hangfire.States;
using Npgsql;

namespace ConvService.Storage.Postgres;

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
/// A record counts as orphaned when it has not changed for <see cref="PostgresStorageSettings.OrphanedJobCheckSeconds"/>
/// and its Hangfire job (by the recorded id, or by its argument when the id was never recorded) is neither in a queue
/// row (enqueued, or fetched and kept alive by a worker) nor scheduled or awaiting. A deleted one is cancelled (a
/// dashboard delete whose filter missed); any other is enqueued again: failed without filters, succeeded without
/// finishing the record, or missing. Missing covers a crash between the record's commit and Hangfire's (whose commits
/// are asynchronous: <see cref="PostgresStorageSettings.HangfireSynchronousCommit"/>), after which the client may have
/// been answered 202 — or 503 when the submitter's undo failed too; then the job runs although the client was told
/// nothing was accepted (extra work, never a lost one). Re-running is safe:
/// a job that finds its record finished does nothing, and a result is stored under the same id twice at most.
/// One node at a time (an advisory lock); each pass looks at a bounded batch.
/// </para>
/// </remarks>
public sealed class OrphanedJobReconciler(
    PostgresDatabase database, PostgresStorageSettings settings, IServiceProvider services, IJobStore jobs, ILogger<OrphanedJobReconciler> logger) : BackgroundService
{
    private const long LockKey = 0x636f6e766f727068; // "convorph"
    private const int BatchSize = 500;

    /// <summary>What one pass did.</summary>
    public sealed record Outcome(int Requeued, int Cancelled);

    private enum Action { Requeue, Cancel }

    /// <summary>One pass: finds orphaned records and repairs them. Returns zeros when another node holds the pass.</summary>
    public Task<Outcome> ReconcileAsync(CancellationToken cancellationToken) =>
        // Not repeated on a lost connection: the repairs are safe to repeat, but the next tick does that anyway.
        database.RunAsync(async (connection, ct) =>
        {
            // The transaction's advisory lock is held until the repairs are done, so two nodes never repair one record twice.
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", LockKey);
                if (await lockCommand.ExecuteScalarAsync(ct) is not true) return new Outcome(0, 0);
            }
            var orphans = new List<(string Id, string Method, Action Action)>();
            await using (var command = new NpgsqlCommand(OrphansSql(settings.HangfireSchema), connection, transaction))
            {
                command.Parameters.AddWithValue("age", settings.OrphanedJobCheckSeconds);
                command.Parameters.AddWithValue("limit", BatchSize);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    orphans.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2) ? Action.Cancel : Action.Requeue));
            }
            var outcome = orphans.Count == 0 ? new Outcome(0, 0) : await RepairAsync(orphans, ct);
            await transaction.CommitAsync(ct);
            return outcome;
        }, safeToRetry: false, cancellationToken);

    private async Task<Outcome> RepairAsync(List<(string Id, string Method, Action Action)> orphans, CancellationToken cancellationToken)
    {
        // Resolved here: the lifecycle needs Hangfire's client, whose state changer needs the filters that need the stores.
        var hangfire = services.GetRequiredService<IBackgroundJobClient>();
        var lifecycle = services.GetRequiredService<ConvolutionJobLifecycle>();
        int requeued = 0, cancelled = 0;
        foreach (var (id, method, action) in orphans)
        {
            if (action == Action.Requeue)
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

    /// <summary>
    /// Unfinished records unchanged for @age seconds whose Hangfire job is not live; deleted: the newest one is Deleted. Hangfire.PostgreSql stores a job's
    /// arguments as a jsonb array of JSON texts, so the record id is the first element, quoted.
    /// </summary>
    internal static string OrphansSql(string hangfireSchema) => $"""
        SELECT j.id, j.record->>'method', COALESCE(h.deleted, false)
        FROM {PostgresDatabase.Schema}.jobs j
        LEFT JOIN LATERAL (
            SELECT bool_or(hj.statename IN ('Scheduled', 'Awaiting') OR EXISTS (SELECT 1 FROM "{hangfireSchema}".jobqueue q WHERE q.jobid = hj.id)) AS live,
                   (array_agg(hj.statename ORDER BY hj.id DESC))[1] = 'Deleted' AS deleted
            FROM "{hangfireSchema}".job hj
            WHERE CASE WHEN j.record->>'hangfireJobId' IS NOT NULL
                       THEN hj.id = (j.record->>'hangfireJobId')::bigint
                       ELSE hj.arguments->>0 = '"' || j.id || '"' END
        ) h ON true
        WHERE j.status IN ('queued', 'running') AND j.updated < now() - make_interval(secs => @age)
        AND NOT COALESCE(h.live, false)
        ORDER BY j.id
        LIMIT @limit
        """;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.OrphanedJobCheckSeconds));
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
