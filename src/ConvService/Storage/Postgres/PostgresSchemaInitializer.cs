namespace ConvService.Storage.Postgres;

/// <summary>Creates the <c>convservice</c> schema on start; if the database is down then, the first operation after it returns does.</summary>
internal sealed class PostgresSchemaInitializer(PostgresDatabase database, ILogger<PostgresSchemaInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await database.EnsureSchemaAsync(limit.Token);
        }
        catch (Exception e) when (PostgresErrors.IsUnavailable(e) || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning("PostgreSQL is not reachable at start ({Error}); requests that need it get 503 until it is.", e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
