using System.Net;
using ConvService.Benchmarks;
using ConvService.Core.Arrays;
using ConvService.Core.Npy;
using ConvService.Options;
using ConvService.Storage;

namespace ConvService.Api.Tests;

/// <summary>
/// The lean job path: results carry a checksum computed during the convolution and an id derived from their job,
/// the job's timing says where the worker's time went, and benchmarks say when their figures cannot be trusted.
/// </summary>
public sealed class JobPathTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private const string Body = """
        {"image": {"generate": {"shape": [150, 90], "fill": "normal", "seed": 4}}, "kernel": {"generate": {"shape": [5, 4], "fill": "normal", "seed": 5}}, "stride": [2, 1]}
        """;

    [Fact]
    public async Task Submit_FinishedJob_HasChecksumOfItsResult_AndAJobDerivedResultId()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(Body);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var result = job.GetProperty("result");
        string id = job.GetProperty("id").GetString()!;
        string arrayId = result.GetProperty("arrayId").GetString()!;
        Assert.Equal(ArrayId.ForResult(id, "", "").Id, arrayId);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("sha256").ValueKind);

        var npy = await client.SendAsync(ApiClient.Get($"/convolutions/{id}/result", "application/x-npy"));
        var array = NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue);
        Assert.Equal(ResultDigest.Of(array).Checksum, result.GetProperty("checksum").GetString());

        var info = await (await client.GetAsync($"/arrays/{arrayId}")).ReadJsonAsync();
        Assert.Equal(result.GetProperty("checksum").GetString(), info.GetProperty("checksum").GetString());
    }

    [Fact]
    public async Task Submit_FinishedJob_ReportsItsStages()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(Body);
        var timing = job.GetProperty("timing");
        var stages = timing.GetProperty("stages");
        double sum = 0;
        foreach (var stage in new[] { "markRunningMs", "loadInputsMs", "convolveMs", "summarizeMs", "storeMs" })
        {
            double ms = stages.GetProperty(stage).GetDouble();
            Assert.True(ms >= 0, stage);
            sum += ms;
        }
        Assert.Equal(timing.GetProperty("computeMs").GetDouble(), stages.GetProperty("convolveMs").GetDouble());
        Assert.True(sum <= timing.GetProperty("totalMs").GetDouble() + 1e-6, $"stages {sum} ms exceed the job's {timing}");
    }

    [Fact]
    public async Task Delete_OneOfTwoIdenticalJobs_LeavesTheOthersResult()
    {
        using var client = factory.CreateClient();
        var first = await client.SubmitAndWaitAsync(Body);
        var second = await client.SubmitAndWaitAsync(Body);
        string firstResult = first.GetProperty("result").GetProperty("arrayId").GetString()!;
        string secondResult = second.GetProperty("result").GetProperty("arrayId").GetString()!;
        Assert.NotEqual(firstResult, secondResult);
        Assert.Equal(first.GetProperty("result").GetProperty("checksum").GetString(), second.GetProperty("result").GetProperty("checksum").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/convolutions/{first.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/arrays/{firstResult}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/arrays/{secondResult}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/convolutions/{second.GetProperty("id").GetString()}/result")).StatusCode);
    }

    [Fact]
    public async Task Benchmark_Report_SaysWhichBuildItMeasured_AndWarnsAboutADebugBuild()
    {
        using var client = factory.CreateClient();
        var report = await (await client.PostAsync("/benchmarks?wait=60", ApiClient.Json("""
            {"image": {"shape": [40, 40]}, "kernel": {"shape": [3, 3], "count": 1}, "iterations": 2, "strategies": ["serial"], "repetitions": 1, "warmup": 0}
            """))).ReadJsonAsync();
        Assert.Equal("succeeded", report.GetProperty("status").GetString());
        var environment = report.GetProperty("environment");
        string build = environment.GetProperty("build").GetString()!;
        // The suite runs whatever configuration `dotnet test` built; the report must say which, and warn when it is Debug.
        Assert.Equal(BuildInfo.Current.Configuration, build);
        var warnings = report.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Equal(build == "Debug", warnings.Any(w => w.Contains("Debug build") && w.Contains("-c Release")));
        Assert.False(environment.GetProperty("tieredCompilation").GetBoolean() && !warnings.Any(w => w.Contains("Tiered compilation")));
    }

    [Fact]
    public void BuildInfo_TieringOrMinOptsFromTheEnvironment_IsWarnedAbout()
    {
        var tiered = BuildInfo.Read(name => name == "DOTNET_TieredCompilation" ? "1" : null);
        Assert.True(tiered.TieredCompilation);
        Assert.Contains(tiered.Warnings, w => w.Contains("Tiered compilation is on"));
        var off = BuildInfo.Read(name => name == "DOTNET_TieredCompilation" ? "0" : null);
        Assert.False(off.TieredCompilation);
        Assert.DoesNotContain(off.Warnings, w => w.Contains("Tiered compilation"));
        var minOpts = BuildInfo.Read(name => name == "DOTNET_JitMinOpts" ? "1" : null);
        Assert.Contains(minOpts.Warnings, w => w.Contains("DOTNET_JitMinOpts=1"));
    }

    [Fact]
    public void DefaultNodeName_IsUniquePerProcess()
    {
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", ConvServiceOptions.DefaultNodeName);
        Assert.Equal(ConvServiceOptions.DefaultNodeName, new ConvServiceOptions().EffectiveNodeName);
        Assert.Equal("node-a", new ConvServiceOptions { NodeName = "node-a" }.EffectiveNodeName);
    }

    [Fact]
    public void BenchmarkThreads_RunEveryIndexOnItsOwnThread_AndAreReused()
    {
        using var threads = new BenchmarkThreads(3);
        for (int run = 0; run < 50; run++)
        {
            var seen = new int[3];
            var threadIds = new int[3];
            threads.Run(3, t => { seen[t]++; threadIds[t] = Environment.CurrentManagedThreadId; });
            Assert.All(seen, n => Assert.Equal(1, n));
            Assert.Equal(3, threadIds.Distinct().Count());
        }
        var ran = new int[3];
        threads.Run(2, t => ran[t]++);
        Assert.Equal(new[] { 1, 1, 0 }, ran);
        var e = Assert.Throws<InvalidOperationException>(() => threads.Run(3, t => { if (t == 1) throw new InvalidOperationException("boom"); }));
        Assert.Equal("boom", e.Message);
        threads.Run(1, _ => { }); // still usable after a failure
    }
}
