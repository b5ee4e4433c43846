using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace ConvService.Api.Tests.Postgres;

/// <summary>Benchmark reports live in the database: any node runs a benchmark, every node reports it, and it survives restarts.</summary>
public sealed class PostgresBenchmarkTests(ITestOutputHelper output)
{
    // Enough repetitions to be seen running for a moment, small enough for a Debug build.
    private const string Benchmark =
        """{"image": {"shape": [48, 48]}, "kernel": {"shape": [3, 3], "count": 4}, "iterations": 4, "repetitions": 2, "warmup": 0, "strategies": ["serial", "parallel"]}""";

    private static async Task<JsonElement> GetAsync(HttpClient client, string id)
    {
        var response = await client.GetAsync("/benchmarks/" + id);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET benchmark {id}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [SkippableFact]
    public async Task BenchmarkSubmittedToOneNode_ReportsOnBoth_AndAfterRestart()
    {
        await using var db = await TestDatabase.CreateAsync();
        string id;
        using (var alpha = PgNodes.Create(db.ConnectionString, "alpha"))
        using (var beta = PgNodes.Create(db.ConnectionString, "beta"))
        {
            using var clientA = alpha.CreateClient();
            using var clientB = beta.CreateClient();
            var submit = await clientA.PostAsync("/benchmarks", ApiClient.Json(Benchmark));
            Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
            id = (await submit.ReadJsonAsync()).GetProperty("id").GetString()!;

            // The other node knows it at once, and follows it to the end (whichever node's benchmark worker runs it).
            var onB = await GetAsync(clientB, id);
            Assert.Contains(onB.GetProperty("status").GetString(), new[] { "queued", "running", "succeeded" });
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (onB.GetProperty("status").GetString() is "queued" or "running" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                onB = await GetAsync(clientB, id);
            }
            var onA = await GetAsync(clientA, id);
            foreach (var report in new[] { onA, onB })
            {
                Assert.Equal("succeeded", report.GetProperty("status").GetString());
                var progress = report.GetProperty("progress");
                Assert.Equal(progress.GetProperty("total").GetInt64(), progress.GetProperty("completed").GetInt64());
                Assert.Equal(2, report.GetProperty("results").GetArrayLength());
            }
            Assert.Equal(onA.GetRawText(), onB.GetRawText());
            string ranOn = onB.GetProperty("environment").GetProperty("node").GetString()!;
            Assert.Contains(ranOn, new[] { "alpha", "beta" });
            output.WriteLine($"submitted to alpha, ran on {ranOn}: the other node read it from the database");
            output.WriteLine("report: " + onB.GetRawText()[..Math.Min(400, onB.GetRawText().Length)]);
            Assert.Contains(id, (await (await clientB.GetAsync("/benchmarks")).Content.ReadAsStringAsync()));
        }

        // Both nodes gone: a fresh node still has the report.
        using var gamma = PgNodes.Create(db.ConnectionString, "gamma");
        using var clientG = gamma.CreateClient();
        Assert.Equal("succeeded", (await GetAsync(clientG, id)).GetProperty("status").GetString());
    }

    [SkippableFact]
    public async Task RunningBenchmark_ProgressIsInTheDatabase_SoEveryNodeSeesIt()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var alpha = PgNodes.Create(db.ConnectionString, "alpha");
        using var beta = PgNodes.Create(db.ConnectionString, "beta");
        using var clientA = alpha.CreateClient();
        using var clientB = beta.CreateClient();
        // 200 naive 200×200 ⊛ 15×15 convolutions: 40 of them took under 0.5 s here (Debug), so 200 give seconds of running and several progress writes.
        var submit = await clientA.PostAsync("/benchmarks", ApiClient.Json(
            """{"image": {"shape": [200, 200]}, "kernel": {"shape": [15, 15], "count": 1}, "method": "naive", "iterations": 200, "repetitions": 1, "warmup": 0, "strategies": ["serial"]}"""));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        string id = (await submit.ReadJsonAsync()).GetProperty("id").GetString()!;

        await using var connection = new Npgsql.NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        long seen = 0;
        int runningPolls = 0;
        string status = "queued";
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (status is "queued" or "running" && DateTime.UtcNow < deadline)
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT report->>'status', (report->'progress'->>'completed')::bigint FROM convservice.benchmarks WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            await using (var reader = await command.ExecuteReaderAsync())
            {
                Assert.True(await reader.ReadAsync());
                status = reader.GetString(0);
                if (status == "running") (seen, runningPolls) = (Math.Max(seen, reader.GetInt64(1)), runningPolls + 1);
            }
            await Task.Delay(100);
        }
        Assert.Equal("succeeded", status);
        Assert.True(seen > 0, $"No progress was written to the benchmark's row while it ran ({runningPolls} polls saw it running).");
        output.WriteLine($"progress seen in the row while running: {seen} of 200");
        // Both nodes agree on the final report.
        Assert.Equal((await GetAsync(clientA, id)).GetRawText(), (await GetAsync(clientB, id)).GetRawText());
    }
}
