using ConvService.Core.Convolution;
using Npgsql;

namespace ConvService.Storage.Postgres;

/// <summary>
/// The orphaned job records of a PostgreSQL cluster: <c>queued</c>/<c>running</c> records unchanged for
/// <see cref="PostgresStorageSettings.OrphanedJobCheckSeconds"/> whose Hangfire job (by the recorded id, or by its
/// argument when the id was never recorded) is neither in a queue row (enqueued, or fetched and kept alive by a worker)
/// nor scheduled or awaiting. Why they happen and how they are repaired: <c>Jobs/OrphanedJobReconciler</c>.
/// </summary>
public sealed class PostgresOrphanedJobs(PostgresDatabase database, PostgresStorageSettings settings) : IOrphanedJobSource
{
    private const long LockKey = 0x636f6e766f727068; // "convorph"
    private const int BatchSize = 500;

    /// <inheritdoc />
    public TimeSpan CheckInterval => TimeSpan.FromSeconds(settings.OrphanedJobCheckSeconds);

    /// <inheritdoc />
    public Task<bool> RepairAsync(Func<IReadOnlyList<OrphanedJob>, CancellationToken, Task> repair, CancellationToken cancellationToken) =>
        // Not repeated on a lost connection: the repairs are safe to repeat, but the next tick does that anyway.
        database.RunAsync(async (connection, ct) =>
        {
            // The transaction's advisory lock is held until the repairs are done, so two nodes never repair one record twice.
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", LockKey);
                if (await lockCommand.ExecuteScalarAsync(ct) is not true) return false;
            }
            var orphans = new List<OrphanedJob>();
            await using (var command = new NpgsqlCommand(OrphansSql(settings.HangfireSchema), connection, transaction))
            {
                command.Parameters.AddWithValue("age", settings.OrphanedJobCheckSeconds);
                command.Parameters.AddWithValue("limit", BatchSize);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    orphans.Add(new OrphanedJob(reader.GetString(0), Enum.Parse<ConvolutionMethod>(reader.GetString(1), ignoreCase: true), reader.GetBoolean(2)));
            }
            if (orphans.Count > 0) await repair(orphans, ct);
            await transaction.CommitAsync(ct);
            return true;
        }, safeToRetry: false, cancellationToken);

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

}
