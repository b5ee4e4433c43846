using ConvService.Core.Arrays;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;

namespace ConvService.Api.Tests.Postgres;

/// <summary>Several nodes on one database: shared work, a killed node, a restart, a database outage.</summary>
public sealed class PostgresNodesTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task TwoNodes_OnOneDatabase_ShareTheWork_AndBothListThemInNodes()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var alpha = PgNodes.Create(db.ConnectionString, "alpha");
        using var beta = PgNodes.Create(db.ConnectionString, "beta");
        using var clientA = alpha.CreateClient();
        using var clientB = beta.CreateClient();

        var ids = new List<string>();
        for (int i = 0; i < 40; i++) ids.Add(await PgNodes.SubmitAsync(i % 2 == 0 ? clientA : clientB, PgNodes.Body(64, 5, i)));
        var jobs = await PgNodes.WaitFinishedAsync(clientB, ids, TimeSpan.FromSeconds(120));

        for (int i = 0; i < ids.Count; i++)
        {
            var job = jobs[ids[i]];
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            Assert.Equal(1, job.GetProperty("attempts").GetInt32());
            Assert.Equal(PgNodes.ExpectedChecksum(64, 5, i), job.GetProperty("result").GetProperty("checksum").GetString());
        }
        var ranOn = jobs.Values.GroupBy(j => j.GetProperty("node").GetString()).ToDictionary(g => g.Key!, g => g.Count());
        output.WriteLine("jobs per node: " + string.Join(", ", ranOn.Select(p => $"{p.Key}={p.Value}")));
        Assert.Equal(new[] { "alpha", "beta" }, ranOn.Keys.Order());

        // Each node sees both servers, since they share the job storage.
        var nodes = await (await clientA.GetAsync("/nodes")).ReadJsonAsync();
        Assert.Equal(2, nodes.GetProperty("alive").GetInt32());
        Assert.Equal(4, nodes.GetProperty("workers").GetInt32());
        // Two Hangfire servers per node: convolutions, and the one-worker benchmarks server.
        Assert.Equal(4, nodes.GetProperty("nodes").GetArrayLength());
        var names = nodes.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()!.ToLowerInvariant()).Distinct().Order();
        Assert.Equal(new[] { "alpha", "beta" }, names);
    }

    [SkippableFact]
    public async Task FitsUploadedOnOneNode_ResultServedByAnother_KeepsTheHeader()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var alpha = PgNodes.Create(db.ConnectionString, "alpha");
        using var beta = PgNodes.Create(db.ConnectionString, "beta");
        using var clientA = alpha.CreateClient();
        using var clientB = beta.CreateClient();
        byte[] fits = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "fits", "wcs.fits"));
        var upload = await clientA.PostAsync("/arrays", ApiClient.Bytes(fits, "application/fits"));
        string image = (await upload.ReadJsonAsync()).GetProperty("id").GetString()!;
        var job = await clientA.SubmitAndWaitAsync($$"""{"image": {"arrayId": "{{image}}"}, "kernel": {"data": [[1]]}, "mode": "same"}""");
        var result = await clientB.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "application/fits"));
        var read = Core.Fits.FitsReader.Read(await result.Content.ReadAsByteArrayAsync(), new Core.Fits.FitsReadLimits(1 << 20, 1 << 20, 1 << 20));
        Assert.Equal("M1", read.Header.GetString("OBJECT"));
        Assert.Equal(10.5, read.Header.GetDouble("CRPIX1"));
    }

    [SkippableFact]
    public async Task Restart_KeepsQueuedJobsAndStoredResults()
    {
        await using var db = await TestDatabase.CreateAsync();
        string earlierId, earlierSha, earlierArrayId;
        var pending = new List<(string Id, int Size, int Kernel, int Seed)>();
        using (var first = PgNodes.Create(db.ConnectionString, "first", workers: 1))
        {
            using var client = first.CreateClient();
            var earlier = await client.SubmitAndWaitAsync(PgNodes.Body(50, 5, 1));
            earlierId = earlier.GetProperty("id").GetString()!;
            earlierSha = earlier.GetProperty("result").GetProperty("checksum").GetString()!;
            earlierArrayId = earlier.GetProperty("result").GetProperty("arrayId").GetString()!;

            // One long job occupies the only worker; the small ones behind it are still queued at shutdown.
            // 400² ⊛ 31² naive is ~150 M multiply-adds: long enough to still be running when the node stops.
            pending.Add((await PgNodes.SubmitAsync(client, PgNodes.Body(400, 31, 2)), 400, 31, 2));
            for (int seed = 10; seed < 14; seed++) pending.Add((await PgNodes.SubmitAsync(client, PgNodes.Body(60, 5, seed)), 60, 5, seed));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await PgNodes.GetJobAsync(client, pending[0].Id)).GetProperty("status").GetString() != "running" && DateTime.UtcNow < deadline)
                await Task.Delay(20);
        } // graceful stop: the running job is cancelled by Hangfire's shutdown token and requeued, not failed

        // What the restart has to pick up, as the database holds it with no node running.
        var atRestart = await PgNodes.ReadJobRowsAsync(db.ConnectionString);
        var unfinished = pending.Where(p => atRestart[p.Id].Status is "queued" or "running").Select(p => p.Id).ToHashSet();
        Assert.NotEmpty(unfinished);

        using var second = PgNodes.Create(db.ConnectionString, "second");
        using var client2 = second.CreateClient();
        var jobs = await PgNodes.WaitFinishedAsync(client2, pending.Select(p => p.Id).ToList(), TimeSpan.FromSeconds(90));
        foreach (var (id, size, kernel, seed) in pending)
        {
            Assert.Equal("succeeded", jobs[id].GetProperty("status").GetString());
            Assert.Equal(PgNodes.ExpectedChecksum(size, kernel, seed), jobs[id].GetProperty("result").GetProperty("checksum").GetString());
            if (!unfinished.Contains(id)) continue;
            Assert.Equal("second", jobs[id].GetProperty("node").GetString());
            // A job the first node had started (and was stopped in) runs a second time; a queued one for the first time.
            Assert.Equal(atRestart[id].Status == "running" ? 2 : 1, jobs[id].GetProperty("attempts").GetInt32());
        }

        // The result stored before the restart is still there, byte for byte.
        var npy = await client2.SendAsync(ApiClient.Get($"/convolutions/{earlierId}/result", "application/x-npy"));
        Assert.Equal(HttpStatusCode.OK, npy.StatusCode);
        var result = Core.Npy.NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue);
        Assert.Equal(earlierSha, ResultDigest.Of(result).Checksum);
        Assert.Equal(PgNodes.ExpectedChecksum(50, 5, 1), earlierSha);

        // Ids are stable across the restart: the job still names the same result id (derived from the job id), which still resolves.
        var again = await PgNodes.GetJobAsync(client2, earlierId);
        Assert.Equal(earlierArrayId, again.GetProperty("result").GetProperty("arrayId").GetString());
        Assert.Equal(ConvService.Storage.ArrayId.ForResult(earlierId, "", "").Id, earlierArrayId);
        var info = await (await client2.GetAsync($"/arrays/{earlierArrayId}")).ReadJsonAsync();
        Assert.Equal(earlierSha, info.GetProperty("checksum").GetString());
    }

    [SkippableFact]
    public async Task DatabaseOutage_Answers503WithRetryAfter_ReportsUnready_AndLosesNoAcceptedJob()
    {
        await using var db = await TestDatabase.CreateAsync();
        var server = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        await using var proxy = new TcpProxy(server.Host!, server.Port);
        using var node = PgNodes.Create(db.Via(proxy.Port), "solo", invisibilitySeconds: 3);
        using var client = node.CreateClient();
        await client.SubmitAndWaitAsync(PgNodes.Body(40, 3, 1));

        var accepted = new List<(string Id, int Seed)>();
        for (int seed = 100; seed < 108; seed++) accepted.Add((await PgNodes.SubmitAsync(client, PgNodes.Body(100, 11, seed)), seed));
        proxy.Cut();

        var refused = await client.PostAsync("/convolutions?wait=5", ApiClient.Json(PgNodes.Body(40, 3, 2)));
        await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "database");
        Assert.NotNull(refused.Headers.RetryAfter);
        var read = await client.GetAsync($"/convolutions/{accepted[0].Id}");
        await read.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("unreachable", (await ready.ReadJsonAsync()).GetProperty("checks").GetProperty("arrayStore").GetString());

        await Task.Delay(2000);
        proxy.Restore();
        output.WriteLine($"database back at {DateTime.UtcNow:HH:mm:ss.fff}");
        var back = Stopwatch.StartNew();
        HttpResponseMessage response;
        do
        {
            response = await client.PostAsync("/convolutions?wait=30", ApiClient.Json(PgNodes.Body(40, 3, 3)));
            if (response.StatusCode != HttpStatusCode.OK) await Task.Delay(200);
        } while (response.StatusCode != HttpStatusCode.OK && back.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        output.WriteLine($"first job completed {back.Elapsed.TotalSeconds:F1} s after the database came back");

        var jobs = await PgNodes.WaitFinishedAsync(client, accepted.Select(a => a.Id).ToList(), TimeSpan.FromSeconds(90));
        output.WriteLine($"all {accepted.Count} accepted jobs finished {back.Elapsed.TotalSeconds:F1} s after it came back");
        foreach (var (id, seed) in accepted)
        {
            output.WriteLine($"{id}: {jobs[id].GetProperty("status").GetString()}, attempts {jobs[id].GetProperty("attempts").GetInt32()}, finished {jobs[id].GetProperty("finishedAt").GetDateTimeOffset():HH:mm:ss.fff}"
                + (jobs[id].TryGetProperty("error", out var error) && error.ValueKind == System.Text.Json.JsonValueKind.String ? $", error: {error.GetString()}" : ""));
            Assert.Equal("succeeded", jobs[id].GetProperty("status").GetString());
            Assert.Equal(PgNodes.ExpectedChecksum(100, 11, seed), jobs[id].GetProperty("result").GetProperty("checksum").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [SkippableFact]
    public async Task KilledNode_ItsRunningJobsFinishOnTheOtherNode_NoneLost()
    {
        await using var db = await TestDatabase.CreateAsync();
        const double invisibility = 4;
        int port = PgNodes.FreePort();
        string dll = Path.Combine(AppContext.BaseDirectory, "ConvService.dll");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.Environment["ConvService__Storage"] = "PostgreSql";
        start.Environment["ConnectionStrings__ConvService"] = db.ConnectionString;
        start.Environment["ConvService__NodeName"] = "victim";
        start.Environment["ConvService__Workers"] = "2";
        start.Environment["ConvService__PostgreSql__InvisibilityTimeoutSeconds"] = invisibility.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["ConvService__PostgreSql__QueuePollIntervalSeconds"] = "0.2";
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        var log = new StringBuilder();
        using var victim = Process.Start(start)!;
        victim.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        victim.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        victim.BeginOutputReadLine();
        victim.BeginErrorReadLine();
        try
        {
            using var victimClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try { if ((await victimClient.GetAsync("/health/ready")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { /* not listening yet */ }
                if (victim.HasExited || DateTime.UtcNow > deadline) Assert.Fail("The victim node did not become ready:\n" + log);
                await Task.Delay(200);
            }

            using var survivor = PgNodes.Create(db.ConnectionString, "survivor", invisibilitySeconds: invisibility);
            using var client = survivor.CreateClient();
            var ids = new List<(string Id, int Seed)>();
            for (int seed = 0; seed < 6; seed++) ids.Add((await PgNodes.SubmitAsync(victimClient, PgNodes.Body(180, 19, seed)), seed));

            // Kill it while it is computing.
            var runningOnVictim = new List<string>();
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (runningOnVictim.Count == 0 && DateTime.UtcNow < deadline)
            {
                foreach (var (id, _) in ids)
                {
                    var job = await PgNodes.GetJobAsync(client, id);
                    if (job.GetProperty("status").GetString() == "running" && job.GetProperty("node").GetString() == "victim") runningOnVictim.Add(id);
                }
                if (runningOnVictim.Count == 0) await Task.Delay(20);
            }
            Assert.NotEmpty(runningOnVictim);
            victim.Kill(entireProcessTree: true);
            var killedAt = Stopwatch.StartNew();
            await victim.WaitForExitAsync();
            // The jobs the victim was in the middle of, as the database holds them once it is gone.
            var atKill = await PgNodes.ReadJobRowsAsync(db.ConnectionString);
            runningOnVictim = atKill.Where(r => r.Value.Status == "running" && r.Value.Node == "victim").Select(r => r.Key).ToList();
            Assert.NotEmpty(runningOnVictim);

            var jobs = await PgNodes.WaitFinishedAsync(client, ids.Select(i => i.Id).ToList(), TimeSpan.FromSeconds(120));
            var recovered = runningOnVictim.Select(id => jobs[id]).ToList();
            output.WriteLine($"killed the victim with {runningOnVictim.Count} jobs running; all {ids.Count} jobs finished {killedAt.Elapsed.TotalSeconds:F1} s later");
            foreach (var (id, seed) in ids)
            {
                var job = jobs[id];
                Assert.Equal("succeeded", job.GetProperty("status").GetString());
                Assert.Equal(PgNodes.ExpectedChecksum(180, 19, seed), job.GetProperty("result").GetProperty("checksum").GetString());
                Assert.InRange(job.GetProperty("attempts").GetInt32(), 1, 2);
            }
            foreach (var job in recovered)
            {
                // Interrupted on the victim, re-delivered after the invisibility timeout, finished by the survivor.
                Assert.Equal("survivor", job.GetProperty("node").GetString());
                Assert.Equal(2, job.GetProperty("attempts").GetInt32());
            }
            // Jobs list once each: nothing duplicated, nothing lost.
            var listed = await (await client.GetAsync("/convolutions?limit=100")).ReadJsonAsync();
            Assert.Equal(ids.Select(i => i.Id).Order(), listed.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).Order());
        }
        finally
        {
            if (!victim.HasExited) victim.Kill(entireProcessTree: true);
        }
    }
}
