using ConvService.Model;
using System.Text.Json;
using ConvService.Jobs;
using ConvService.Storage;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace ConvService.Api.Tests.Postgres;

/// <summary>
/// Records left unfinished with no live Hangfire job (what a long PostgreSQL outage left behind) are put right.
/// </summary>
public sealed class OrphanedJobReconcilerTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task WorkerGaveUpDuringOutage_JobFailedWithFiltersDisabled_IsEnqueuedAgainAndSucceeds()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var node = PgNodes.Create(db.ConnectionString, "solo", workers: 1).With("ConvService:PostgreSql:OrphanedJobCheckSeconds", "1");
        using var client = node.CreateClient();
        // A long job holds the only worker, so the job under test stays queued until we have put it in the broken state.
        string blocker = await PgNodes.SubmitAsync(client, PgNodes.Body(260, 21, 7));
        string id = await PgNodes.SubmitAsync(client, PgNodes.Body(40, 3, 8));
        string hangfireId = await HangfireIdAsync(db.ConnectionString, id);

        // Exactly the end state of Hangfire's Worker after ten failed state changes (kill -9 of PostgreSQL for 44 s left
        // 3 jobs so): FailedState applied with no filters at all, so neither AutomaticRetry nor JobRecordStateFilter runs,
        // then the job is removed from its queue. Our record stays 'queued' with nothing left to run it.
        var storage = node.Services.GetRequiredService<JobStorage>();
        using (var connection = storage.GetConnection())
            new BackgroundJobStateChanger(new JobFilterProviderCollection()).ChangeState(new StateChangeContext(storage, connection, hangfireId,
                new FailedState(new TimeoutException("Failed to connect")) { Reason = "Failed to change state to a 'Processing' one due to an exception after 10 retry attempts" }));
        await ExecuteAsync(db.ConnectionString, "DELETE FROM hangfire.jobqueue WHERE jobid = @id", long.Parse(hangfireId, System.Globalization.CultureInfo.InvariantCulture));

        var jobs = await PgNodes.WaitFinishedAsync(client, [blocker, id], TimeSpan.FromSeconds(120));
        var job = jobs[id];
        output.WriteLine(job.GetRawText());
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(PgNodes.ExpectedChecksum(40, 3, 8), job.GetProperty("result").GetProperty("checksum").GetString());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        Assert.NotEqual(hangfireId, await HangfireIdAsync(db.ConnectionString, id));
    }

    [SkippableFact]
    public async Task RecordWithoutAnyHangfireJob_IsEnqueuedAndSucceeds_AndItsPinsReleased()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var node = PgNodes.Create(db.ConnectionString, "solo").With("ConvService:PostgreSql:OrphanedJobCheckSeconds", "1");
        using var client = node.CreateClient();
        var done = await client.SubmitAndWaitAsync(PgNodes.Body(30, 3, 1));
        var store = node.Services.GetRequiredService<IJobStore>();
        var arrays = node.Services.GetRequiredService<IArrayStore>();
        var template = (await store.TryGetAsync(done.GetProperty("id").GetString()!))!;

        // A record committed (inputs pinned) whose Hangfire job never reached the disk: PostgreSQL crashed between the
        // two commits, or Hangfire.Create failed and the submitter's undo failed too.
        var orphan = template with
        {
            Id = Guid.CreateVersion7().ToString("N"), Status = JobStatus.Queued, HangfireJobId = null, Result = null, StartedAt = null,
            FinishedAt = null, Node = null, Attempts = 0, ComputeMs = null, Stages = null,
        };
        Assert.True(await JobInputs.PinAsync(arrays, orphan.Request, orphan.Owner));
        await store.CreateAsync(orphan);

        var job = (await PgNodes.WaitFinishedAsync(client, [orphan.Id], TimeSpan.FromSeconds(60)))[orphan.Id];
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(PgNodes.ExpectedChecksum(30, 3, 1), job.GetProperty("result").GetProperty("checksum").GetString());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        Assert.Equal(0L, await ScalarAsync(db.ConnectionString, "SELECT count(*) FROM convservice.array_pins"));
    }

    private static async Task<string> HangfireIdAsync(string connectionString, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT record->>'hangfireJobId' FROM convservice.jobs WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            if (await command.ExecuteScalarAsync() is string hangfireId) return hangfireId;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Job {id} never recorded its Hangfire id.");
            await Task.Delay(50);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql, long id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
