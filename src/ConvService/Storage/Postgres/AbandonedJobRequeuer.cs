using Npgsql;

namespace ConvService.Storage.Postgres;

/// <summary>
/// Puts jobs abandoned by a dead node back at the front of Hangfire's queue. Hangfire.PostgreSql re-delivers a job
/// whose worker stopped refreshing it once the invisibility timeout has passed, but it fetches in the order
/// <c>fetchedat NULLS FIRST, queue, jobid</c>: under sustained load there is always a never-fetched job first, so an
/// abandoned job waited until the queue drained (measured: minutes). Clearing <c>fetchedat</c> of rows past the
/// timeout makes them ordinary queued rows again, and their older job ids put them first.
/// </summary>
/// <remarks>
/// This does only what Hangfire itself would do after the same timeout (a live worker refreshes its row every fifth
/// of it), so it adds no new double execution; it touches Hangfire's <c>jobqueue</c> table directly and so depends on
/// Hangfire.PostgreSql's schema (checked by the scale-out tests). Every node runs it; the update is idempotent.
/// </remarks>
public sealed class AbandonedJobRequeuer(PostgresDatabase database, PostgresStorageSettings settings, ILogger<AbandonedJobRequeuer> logger) : BackgroundService
{
    /// <summary>Resets jobs fetched longer ago than the invisibility timeout; returns how many.</summary>
    public Task<int> RequeueAsync(CancellationToken cancellationToken) =>
        database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand(
                $"UPDATE \"{settings.HangfireSchema}\".jobqueue SET fetchedat = NULL WHERE fetchedat < now() - make_interval(secs => @timeout)",
                connection);
            command.Parameters.AddWithValue("timeout", settings.InvisibilityTimeoutSeconds);
            return await command.ExecuteNonQueryAsync(ct);
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, settings.InvisibilityTimeoutSeconds / 3));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                int requeued = await RequeueAsync(stoppingToken);
                if (requeued > 0) logger.LogWarning("Requeued {Count} job(s) abandoned by a node that stopped (no keep-alive for {Timeout} s).", requeued, settings.InvisibilityTimeoutSeconds);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Database down or Hangfire's tables not created yet: the next tick tries again.
                logger.LogDebug(e, "Could not requeue abandoned jobs.");
            }
        }
    }
}
