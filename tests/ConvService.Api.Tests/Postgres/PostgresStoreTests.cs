using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using ConvService.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ConvService.Api.Tests.Postgres;

/// <summary>The array and job store contracts against a real PostgreSQL; two store instances play two nodes.</summary>
public sealed class PostgresStoreTests
{
    private sealed class Node : IAsyncDisposable
    {
        private readonly NpgsqlDataSource _source;

        public Node(string connectionString, long budget = 1L << 30, int maxRetained = 100_000, long cacheBytes = 512L << 20)
        {
            _source = NpgsqlDataSource.Create(connectionString);
            var database = new PostgresDatabase(_source, NullLogger<PostgresDatabase>.Instance);
            var options = Microsoft.Extensions.Options.Options.Create(new ConvServiceOptions
            {
                Limits = new LimitsOptions { ArrayStoreBytes = budget, MaxRetainedJobs = maxRetained, NodeArrayCacheBytes = cacheBytes },
            });
            Arrays = new PostgresArrayStore(database, options);
            Jobs = new PostgresJobStore(database, options);
            Headers = new PostgresArrayHeaderStore(database);
        }

        public PostgresArrayStore Arrays { get; }
        public PostgresArrayHeaderStore Headers { get; }
        public PostgresJobStore Jobs { get; }

        public async Task<long> ScalarAsync(string sql)
        {
            await using var command = _source.CreateCommand(sql);
            return Convert.ToInt64(await command.ExecuteScalarAsync());
        }

        public ValueTask DisposeAsync() => _source.DisposeAsync();
    }

    private static Array2D Filled(int rows, int cols, double seed)
    {
        var a = new Array2D(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = seed + i;
        return a;
    }

    [SkippableFact]
    public async Task Schema_FromAnEarlierVersion_IsMigrated_AndItsArraysKeepWorking()
    {
        await using var db = await TestDatabase.CreateAsync();
        // The arrays table as versions before result checksums created it: sha256 required, no checksum column.
        await using (var source = NpgsqlDataSource.Create(db.ConnectionString))
        await using (var command = source.CreateCommand($"""
            CREATE SCHEMA {PostgresDatabase.Schema};
            CREATE TABLE {PostgresDatabase.Schema}.arrays (id text COLLATE "C" PRIMARY KEY, rows integer NOT NULL, cols integer NOT NULL,
                bytes bigint NOT NULL, sha256 text NOT NULL, data bytea NOT NULL, created timestamptz NOT NULL DEFAULT now(),
                last_used timestamptz NOT NULL DEFAULT now());
            INSERT INTO {PostgresDatabase.Schema}.arrays (id, rows, cols, bytes, sha256, data)
                VALUES ('{new string('c', 64)}', 1, 1, 8, '{new string('d', 64)}', '\x000000000000f03f'::bytea);
            """))
            await command.ExecuteNonQueryAsync();

        await using var node = new Node(db.ConnectionString);
        var old = await node.Arrays.TryGetInfoAsync(new string('c', 64));
        Assert.NotNull(old);
        Assert.Equal(new string('d', 64), old.Sha256);
        Assert.Null(old.Checksum); // stored before checksums existed
        Assert.Equal(1.0, (await node.Arrays.TryGetAsync(new string('c', 64)))!.Data[0]);

        // A result (no SHA-256) stores into the migrated table and reads back with its checksum.
        var result = Filled(3, 4, 0.5);
        string checksum = ResultDigest.Of(result).Checksum;
        var put = await node.Arrays.PutBufferAsync(result, ArrayId.ForResult("0193a1b2c3d4e5f60718293a4b5c6d7e", checksum, "k"));
        var info = await node.Arrays.TryGetInfoAsync(put.Info.Id);
        Assert.Null(info!.Sha256);
        Assert.Equal(checksum, info.Checksum);
    }

    [SkippableFact]
    public async Task Headers_PutOnOneNode_ReadOnAnotherAndGoWithTheirArray()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var a = new Node(db.ConnectionString);
        await using var b = new Node(db.ConnectionString);
        var info = await a.Arrays.PutAsync(Filled(2, 2, 1));
        string header = "OBJECT  = 'M51'".PadRight(80) + "CRPIX1  =                 12.5".PadRight(80);
        await a.Headers.PutAsync(info.Id, header);
        Assert.Equal(header, await b.Headers.TryGetAsync(info.Id));
        await b.Headers.PutAsync(info.Id, header[..80]); // a later upload of the same pixels replaces it
        Assert.Equal(header[..80], await a.Headers.TryGetAsync(info.Id));
        await a.Headers.PutAsync(new string('f', 64), header); // no such array: nothing stored
        Assert.Null(await a.Headers.TryGetAsync(new string('f', 64)));
        Assert.Equal(ArrayDeleteOutcome.Deleted, await b.Arrays.DeleteAsync(info.Id));
        Assert.Null(await a.Headers.TryGetAsync(info.Id));
    }

    [SkippableFact]
    public async Task Arrays_PutThenGet_ReturnsTheSameBitsShapeAndContentId()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString);
        var array = new Array2D(2, 3, [double.NaN, -0.0, double.PositiveInfinity, double.Epsilon, 1.0 / 3, -1e308]);

        var info = await node.Arrays.PutAsync(array);
        Assert.Equal(ArrayId.Compute(array).Id, info.Id);
        Assert.Equal(new[] { 2, 3 }, info.Shape);
        Assert.Equal(48, info.Bytes);

        var back = await node.Arrays.TryGetAsync(info.Id);
        Assert.NotNull(back);
        Assert.Equal((2, 3), (back.Rows, back.Cols));
        Assert.Equal(array.Data.Select(BitConverter.DoubleToInt64Bits), back.Data.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(info.Id, ArrayId.Compute(back).Id);
        var described = await node.Arrays.TryGetInfoAsync(info.Id);
        Assert.Equal(info.Shape, described!.Shape);
        Assert.Equal(48, described.Bytes);
        Assert.Null(await node.Arrays.TryGetAsync(new string('0', 64)));
        Assert.Null(await node.Arrays.TryGetInfoAsync(new string('0', 64)));
        Assert.True(await node.Arrays.PingAsync());
    }

    [SkippableFact]
    public async Task Arrays_SamePutFromTwoNodesAtOnce_StoresOneRowAndCountsItsBytesOnce()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var a = new Node(db.ConnectionString);
        await using var b = new Node(db.ConnectionString);
        var array = Filled(64, 64, 7); // 32 KiB

        var puts = Enumerable.Range(0, 24).Select(i => (i % 2 == 0 ? a : b).Arrays.PutAsync(array).AsTask());
        var infos = await Task.WhenAll(puts);

        Assert.Single(infos.Select(i => i.Id).Distinct());
        Assert.Equal(1, await a.ScalarAsync("SELECT count(*) FROM convservice.arrays"));
        Assert.Equal(64 * 64 * 8, await a.Arrays.GetUsedBytesAsync());
    }

    [SkippableFact]
    public async Task Arrays_OverBudget_EvictsLeastRecentlyUsedUnpinnedArraysAndNeverPinnedOnes()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString, budget: 3 * 800 + 100); // room for three 10×10 arrays
        var first = await node.Arrays.PutAsync(Filled(10, 10, 1));
        var second = await node.Arrays.PutAsync(Filled(10, 10, 2));
        var third = await node.Arrays.PutAsync(Filled(10, 10, 3));
        await Task.Delay(1100); // last_used is refreshed at most once a second
        Assert.NotNull(await node.Arrays.TryGetAsync(first.Id)); // now the most recently used of the three
        Assert.True(await node.Arrays.PinAsync(third.Id));

        var fourth = await node.Arrays.PutAsync(Filled(10, 10, 4));
        Assert.Null(await node.Arrays.TryGetInfoAsync(second.Id)); // least recently used, unpinned: evicted
        Assert.NotNull(await node.Arrays.TryGetInfoAsync(first.Id));
        Assert.NotNull(await node.Arrays.TryGetInfoAsync(third.Id));

        var fifth = await node.Arrays.PutAsync(Filled(10, 10, 5));
        Assert.NotNull(await node.Arrays.TryGetInfoAsync(third.Id)); // older than first, but pinned
        Assert.Null(await node.Arrays.TryGetInfoAsync(first.Id));
        Assert.NotNull(await node.Arrays.TryGetInfoAsync(fourth.Id));
        Assert.NotNull(await node.Arrays.TryGetInfoAsync(fifth.Id));
        Assert.Equal(3 * 800, await node.Arrays.GetUsedBytesAsync());
    }

    [SkippableFact]
    public async Task Arrays_FullOfPinnedArrays_RefusesRetryably_AndTooLargeArraysForGood()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString, budget: 2 * 800);
        foreach (var seed in new[] { 1.0, 2.0 })
            Assert.True(await node.Arrays.PinAsync((await node.Arrays.PutAsync(Filled(10, 10, seed))).Id));

        var full = await Assert.ThrowsAsync<ArrayStoreFullException>(() => node.Arrays.PutAsync(Filled(10, 10, 3)).AsTask());
        Assert.False(full.TooLargeEver);
        var tooLarge = await Assert.ThrowsAsync<ArrayStoreFullException>(() => node.Arrays.PutAsync(Filled(30, 30, 4)).AsTask());
        Assert.True(tooLarge.TooLargeEver);

        // The refused put left nothing behind: neither its row nor its bytes.
        Assert.Null(await node.Arrays.TryGetInfoAsync(ArrayId.Compute(Filled(10, 10, 3)).Id));
        Assert.Equal(2, await node.ScalarAsync("SELECT count(*) FROM convservice.arrays"));
        Assert.Equal(1600, await node.Arrays.GetUsedBytesAsync());
    }

    [SkippableFact]
    public async Task Arrays_ReadAgainOnANode_ComesFromItsCache_UntilAnotherNodeDeletesIt()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var a = new Node(db.ConnectionString);
        await using var b = new Node(db.ConnectionString);
        var array = Filled(30, 40, 7);
        var info = await a.Arrays.PutAsync(array);

        var first = await b.Arrays.TryGetAsync(info.Id);
        var second = await b.Arrays.TryGetAsync(info.Id);
        Assert.NotNull(first);
        Assert.Same(first, second); // the second read did not download the value again
        Assert.Equal(array.Data, second!.Data);

        Assert.Equal(ArrayDeleteOutcome.Deleted, await a.Arrays.DeleteAsync(info.Id));
        Assert.Null(await b.Arrays.TryGetAsync(info.Id)); // node b's copy is not served for an array that is gone

        await a.Arrays.PutAsync(array);
        var third = await b.Arrays.TryGetAsync(info.Id);
        Assert.NotSame(first, third);
        Assert.Equal(array.Data, third!.Data);
    }

    [SkippableFact]
    public async Task Arrays_WithTheCacheOff_EveryReadDownloads()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString, cacheBytes: 0);
        var info = await node.Arrays.PutAsync(Filled(3, 3, 1));
        var first = await node.Arrays.TryGetAsync(info.Id);
        var second = await node.Arrays.TryGetAsync(info.Id);
        Assert.NotSame(first, second);
        Assert.Equal(first!.Data, second!.Data);
    }

    [SkippableFact]
    public async Task Arrays_Delete_RefusesWhilePinned_ThenDeletes_AndAccountsBytes()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString);
        var info = await node.Arrays.PutAsync(Filled(4, 4, 1));
        Assert.False(await node.Arrays.PinAsync(new string('a', 64)));
        Assert.Equal(ArrayDeleteOutcome.NotFound, await node.Arrays.DeleteAsync(new string('a', 64)));

        Assert.True(await node.Arrays.PinAsync(info.Id));
        Assert.True(await node.Arrays.PinAsync(info.Id));
        Assert.Equal(ArrayDeleteOutcome.InUse, await node.Arrays.DeleteAsync(info.Id));
        await node.Arrays.UnpinAsync(info.Id);
        Assert.Equal(ArrayDeleteOutcome.InUse, await node.Arrays.DeleteAsync(info.Id)); // pins are counted
        await node.Arrays.UnpinAsync(info.Id);
        await node.Arrays.UnpinAsync(info.Id); // an extra unpin never goes below zero
        Assert.Equal(0, await node.ScalarAsync("SELECT count(*) FROM convservice.array_pins"));

        Assert.Equal(ArrayDeleteOutcome.Deleted, await node.Arrays.DeleteAsync(info.Id));
        Assert.Equal(ArrayDeleteOutcome.NotFound, await node.Arrays.DeleteAsync(info.Id));
        Assert.Equal(0, await node.Arrays.GetUsedBytesAsync());
    }

    [SkippableFact]
    public async Task Arrays_ConcurrentPinsAndUnpinsFromTwoNodes_AreCountedExactly()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var a = new Node(db.ConnectionString);
        await using var b = new Node(db.ConnectionString);
        var kernel = await a.Arrays.PutAsync(Filled(3, 3, 1)); // the shared kernel of many jobs

        Assert.All(await Task.WhenAll(Enumerable.Range(0, 60).Select(i => (i % 2 == 0 ? a : b).Arrays.PinAsync(kernel.Id).AsTask())), Assert.True);
        Assert.Equal(60, await a.ScalarAsync("SELECT count(*) FROM convservice.array_pins"));
        await Task.WhenAll(Enumerable.Range(0, 59).Select(i => (i % 2 == 0 ? a : b).Arrays.UnpinAsync(kernel.Id).AsTask()));
        Assert.Equal(ArrayDeleteOutcome.InUse, await b.Arrays.DeleteAsync(kernel.Id)); // one pin left
        await a.Arrays.UnpinAsync(kernel.Id);
        Assert.Equal(ArrayDeleteOutcome.Deleted, await b.Arrays.DeleteAsync(kernel.Id));
        Assert.False(await a.Arrays.PinAsync(kernel.Id)); // gone: nothing to pin
    }

    private static ConvolutionJobRecord Job(string id, JobStatus status = JobStatus.Queued, string? benchmark = null, string? resultId = null) => new()
    {
        Id = id,
        Status = status,
        SubmittedAt = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero).AddTicks(1234567),
        Request = new NormalizedConvolution(
            new ArrayReference(new string('1', 64), [3, 3], "data"),
            new ArrayReference(new string('2', 64), [2, 2], "generate", new GenerateSpec([2, 2], "normal", 5)),
            ConvolutionMode.Same, ConvolutionBoundary.Wrap, -1.5, [1, 2], ConvolutionMethod.Auto, 1),
        Method = ConvolutionMethod.Naive,
        MethodReason = "tiny",
        MethodEstimateMs = 0.25,
        BenchmarkId = benchmark,
        Result = resultId is null ? null : new JobResultSummary([3, 3], double.NaN, double.PositiveInfinity, 0.5, new string('3', 64), resultId),
        FinishedAt = status.IsFinished() ? DateTimeOffset.UnixEpoch : null,
    };

    private static string Id(int n) => n.ToString("x32");

    [SkippableFact]
    public async Task Jobs_CreateThenGet_RoundTripsEveryField()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString);
        var job = Job(Id(1), JobStatus.Succeeded, resultId: new string('4', 64)) with { Node = "n1", Attempts = 2, ComputeMs = 1.5, Error = "x", HangfireJobId = "17" };

        await node.Jobs.CreateAsync(job);
        var back = await node.Jobs.TryGetAsync(job.Id);

        Assert.Equal(JsonSerializer.Serialize(job, PostgresJobStore.RecordJson), JsonSerializer.Serialize(back, PostgresJobStore.RecordJson));
        Assert.True(double.IsNaN(back!.Result!.Min!.Value));
        Assert.Equal(job.SubmittedAt, back.SubmittedAt);
        Assert.Null(await node.Jobs.TryGetAsync(Id(2)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.Jobs.CreateAsync(job).AsTask());
    }

    [SkippableFact]
    public async Task Jobs_FilterBankCorrelation_RoundTripsKernelsResultsAndOperation()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString);
        var plain = Job(Id(3), JobStatus.Succeeded);
        var job = plain with
        {
            Request = plain.Request with { Kernels = [plain.Request.Kernel, new ArrayReference(new string('5', 64), [2, 2], "data")], Operation = ConvolutionOperation.Correlate },
            Results = [new JobResultSummary([3, 3], 0, 1, 0.5, null, new string('6', 64), "xxh128:0"), new JobResultSummary([3, 3], 1, 2, 1.5, null, new string('7', 64), "xxh128:1")],
        };

        await node.Jobs.CreateAsync(job);
        var back = await node.Jobs.TryGetAsync(job.Id);

        Assert.Equal(JsonSerializer.Serialize(job, PostgresJobStore.RecordJson), JsonSerializer.Serialize(back, PostgresJobStore.RecordJson));
        Assert.Equal(new string('7', 64), back!.Results![1].ArrayId);
        Assert.Equal(ConvolutionOperation.Correlate, back.Request.Operation);
        Assert.Equal(2, back.Request.AllKernels.Count);
    }

    [SkippableFact]
    public async Task Jobs_ConcurrentUpdatesFromTwoNodes_EachAppliedOnceToTheLatestRecord()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var a = new Node(db.ConnectionString);
        await using var b = new Node(db.ConnectionString);
        await a.Jobs.CreateAsync(Job(Id(1)));

        var increments = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
            (await (i % 2 == 0 ? a : b).Jobs.UpdateAsync(Id(1), current => current with { Attempts = current.Attempts + 1 })).Changed));
        Assert.All(await Task.WhenAll(increments), Assert.True);
        Assert.Equal(40, (await a.Jobs.TryGetAsync(Id(1)))!.Attempts);

        // Queued → running: of many nodes racing, exactly one moves it; the others see it running and change nothing.
        await a.Jobs.CreateAsync(Job(Id(2)));
        var starts = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? a : b).Jobs.UpdateAsync(Id(2), current => current.Status != JobStatus.Queued ? null
                : current with { Status = JobStatus.Running, Node = $"node{i}" })));
        var results = await Task.WhenAll(starts);
        var winner = Assert.Single(results, r => r.Changed);
        Assert.All(results, r => Assert.Equal(JobStatus.Running, r.Record!.Status));
        Assert.Equal(winner.Record!.Node, (await b.Jobs.TryGetAsync(Id(2)))!.Node);

        var (missing, changed) = await a.Jobs.UpdateAsync(Id(3), current => current with { Attempts = 9 });
        Assert.Null(missing);
        Assert.False(changed);
    }

    [SkippableFact]
    public async Task Jobs_ListPagesNewestFirst_FiltersByStatus_HidesBenchmarkJobs_AndCountsActive()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString);
        for (int i = 1; i <= 7; i++)
            await node.Jobs.CreateAsync(Job(Id(i), i % 3 == 0 ? JobStatus.Succeeded : i % 3 == 1 ? JobStatus.Queued : JobStatus.Running));
        await node.Jobs.CreateAsync(Job(Id(8), JobStatus.Queued, benchmark: "bench1"));

        var page1 = await node.Jobs.ListAsync(null, 3, null, owner: null);
        Assert.Equal(new[] { Id(7), Id(6), Id(5) }, page1.Select(j => j.Id));
        var page2 = await node.Jobs.ListAsync(null, 3, page1[^1].Id, owner: null);
        Assert.Equal(new[] { Id(4), Id(3), Id(2) }, page2.Select(j => j.Id));
        var page3 = await node.Jobs.ListAsync(null, 3, page2[^1].Id, owner: null);
        Assert.Equal(new[] { Id(1) }, page3.Select(j => j.Id));
        Assert.Equal(new[] { Id(6), Id(3) }, (await node.Jobs.ListAsync(JobStatus.Succeeded, 10, null, owner: null)).Select(j => j.Id));
        Assert.Equal(new[] { Id(4) }, (await node.Jobs.ListAsync(JobStatus.Queued, 10, Id(7), owner: null)).Select(j => j.Id).Take(1));

        // Active: queued 1, 4, 7, running 2, 5 and the benchmark's queued job 8.
        Assert.Equal(6, await node.Jobs.CountActiveAsync());
        await node.Jobs.UpdateAsync(Id(1), current => current with { Status = JobStatus.Cancelled });
        Assert.Equal(5, await node.Jobs.CountActiveAsync());
        Assert.True(await node.Jobs.DeleteAsync(Id(2)));
        Assert.False(await node.Jobs.DeleteAsync(Id(2)));
        Assert.Equal(4, await node.Jobs.CountActiveAsync());
    }

    [SkippableFact]
    public async Task Jobs_ResultReferences_AndTrimmingOfOldFinishedJobs()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var node = new Node(db.ConnectionString, maxRetained: 5);
        string result = new('9', 64);
        await node.Jobs.CreateAsync(Job(Id(1), JobStatus.Queued)); // active: never trimmed however old
        for (int i = 2; i <= 12; i++) await node.Jobs.CreateAsync(Job(Id(i), JobStatus.Succeeded, resultId: i >= 11 ? result : null));

        Assert.True(await node.Jobs.IsResultReferencedAsync(result, Id(11)));
        Assert.True(await node.Jobs.IsResultReferencedAsync(result, Id(12)));
        Assert.False(await node.Jobs.IsResultReferencedAsync(new string('8', 64), Id(11)));

        await node.Jobs.TrimOldestFinishedAsync();
        var left = (await node.Jobs.ListAsync(null, 100, null, owner: null)).Select(j => j.Id).ToList();
        Assert.Equal(new[] { Id(12), Id(11), Id(10), Id(9), Id(8), Id(1) }, left);
        await node.Jobs.DeleteAsync(Id(12));
        Assert.False(await node.Jobs.IsResultReferencedAsync(result, Id(11)));
    }
}
