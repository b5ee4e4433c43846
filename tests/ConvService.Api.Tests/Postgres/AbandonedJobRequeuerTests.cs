using ConvService.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ConvService.Api.Tests.Postgres;

/// <summary>The requeuer against Hangfire.PostgreSql's real jobqueue table (so a schema change there fails here).</summary>
public sealed class AbandonedJobRequeuerTests
{
    [SkippableFact]
    public async Task Requeue_ClearsOnlyRowsFetchedLongerAgoThanTheInvisibilityTimeout()
    {
        await using var db = await TestDatabase.CreateAsync();
        // A 60 s timeout: the node's own requeuer first ticks after 20 s, long after this test has looked.
        using var node = PgNodes.Create(db.ConnectionString, "solo", invisibilitySeconds: 60);
        using var client = node.CreateClient();
        await client.SubmitAndWaitAsync(PgNodes.Body(20, 3, 1)); // the node is up: both schemas exist

        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        // A queue no worker serves, so only the requeuer touches these rows.
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO hangfire.jobqueue (jobid, queue, fetchedat) VALUES
                (900001, 'nobody', now() - interval '2 minutes'),
                (900002, 'nobody', now() - interval '30 seconds'),
                (900003, 'nobody', NULL)
            """, connection))
            await insert.ExecuteNonQueryAsync();

        int requeued = await node.Services.GetServices<IHostedService>().OfType<AbandonedJobRequeuer>().Single().RequeueAsync(CancellationToken.None);

        Assert.Equal(1, requeued);
        await using var read = new NpgsqlCommand("SELECT jobid, fetchedat IS NULL FROM hangfire.jobqueue WHERE queue = 'nobody' ORDER BY jobid", connection);
        await using var reader = await read.ExecuteReaderAsync();
        var rows = new List<(long, bool)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), reader.GetBoolean(1)));
        Assert.Equal(new[] { (900001L, true), (900002L, false), (900003L, true) }, rows);
    }
}
