using ConvService.Model;
using System.Net;
using Npgsql;

namespace ConvService.Api.Tests.Postgres;

/// <summary><c>POST /convolutions/batch</c> with the cluster's storage: recorded in one transaction, run by every node.</summary>
public sealed class PostgresBatchTests
{
    [SkippableFact]
    public async Task SubmitBatch_TwoNodes_EveryJobRecordedWithItsHangfireId_AndAllSucceedCorrectly()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var alpha = PgNodes.Create(db.ConnectionString, "alpha");
        using var beta = PgNodes.Create(db.ConnectionString, "beta");
        using var clientA = alpha.CreateClient();
        using var clientB = beta.CreateClient();
        await clientB.GetAsync("/health/ready"); // start beta's workers

        const int count = 24;
        string jobsJson = string.Join(", ", Enumerable.Range(0, count).Select(seed => PgNodes.Body(48, 5, seed)));
        var response = await clientA.PostAsync("/convolutions/batch", ApiClient.Json("{\"jobs\": [" + jobsJson + """, {"image": {"data": [[1]]}}]}"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(count, body.GetProperty("accepted").GetInt32());
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(400, items[count].GetProperty("problem").GetProperty("status").GetInt32()); // no kernel
        var ids = items.Take(count).Select(i => i.GetProperty("id").GetString()!).ToList();

        // Every record names its Hangfire job at once (one commit for the batch), before any worker touched it.
        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM convservice.jobs WHERE record->>'hangfireJobId' IS NOT NULL AND id = ANY(@ids)", connection);
            command.Parameters.AddWithValue("ids", ids.ToArray());
            Assert.Equal((long)count, (long)(await command.ExecuteScalarAsync())!);
        }

        var jobs = await PgNodes.WaitFinishedAsync(clientB, ids, TimeSpan.FromSeconds(120));
        for (int seed = 0; seed < count; seed++)
        {
            var job = jobs[ids[seed]];
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            Assert.Equal(1, job.GetProperty("attempts").GetInt32());
            Assert.Equal(PgNodes.ExpectedChecksum(48, 5, seed), job.GetProperty("result").GetProperty("checksum").GetString());
        }
        // The batch's jobs spread over both nodes' workers.
        Assert.Equal(["alpha", "beta"], jobs.Values.Select(j => j.GetProperty("node").GetString()!).Distinct().Order());
    }
}
