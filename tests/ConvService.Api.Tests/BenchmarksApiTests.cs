using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;

namespace ConvService.Api.Tests;

public sealed class BenchmarksApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private const string Small = """
        {"image": {"shape": [64, 50], "fill": "normal", "seed": 5}, "kernel": {"shape": [3, 4], "count": 2, "seed": 11},
         "iterations": 3, "stride": [2, 3], "strategies": ["serial", "parallel", "parallel-rows", "fused", "hangfire", "hangfire-fused"], "repetitions": 2, "warmup": 1}
        """;

    [Fact]
    public async Task Submit_SmallBenchmarkWithWait_ReportsEveryStrategyWithAgreeingCorrectChecksums()
    {
        using var client = factory.CreateClient();
        var report = await (await client.PostAsync("/benchmarks?wait=60", ApiClient.Json(Small))).ReadJsonAsync();
        Assert.Equal("succeeded", report.GetProperty("status").GetString());
        Assert.True(report.GetProperty("resultsAgree").GetBoolean());
        var progress = report.GetProperty("progress");
        Assert.Equal(3 * 2 * (2 + 1) * 6, progress.GetProperty("total").GetInt64());
        Assert.Equal(progress.GetProperty("total").GetInt64(), progress.GetProperty("completed").GetInt64());
        var env = report.GetProperty("environment");
        Assert.Equal(Environment.ProcessorCount, env.GetProperty("processorCount").GetInt32());
        Assert.False(string.IsNullOrEmpty(env.GetProperty("simd").GetString()));

        // The checksum is SHA-256 over each output's checksum (ResultDigest, as a job result's), in order: recompute it
        // from the outputs of the method the benchmark planned.
        var image = ArrayGenerator.Generate(64, 50, FillKind.Normal, 5);
        var kernels = new[] { ArrayGenerator.Generate(3, 4, FillKind.Normal, 11), ArrayGenerator.Generate(3, 4, FillKind.Normal, 12) };
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < 6; i++)
        {
            var output = Convolver.Convolve2D(image, kernels[i % 2], new ConvolutionOptions(StrideY: 2, StrideX: 3, Method: ConvolutionMethod.Direct));
            expected.AppendData(System.Text.Encoding.ASCII.GetBytes(ResultDigest.Of(output).Checksum));
        }
        string checksum = Convert.ToHexStringLower(expected.GetHashAndReset());

        var results = report.GetProperty("results");
        Assert.Equal(6, results.GetArrayLength());
        var names = new List<string>();
        foreach (var r in results.EnumerateArray())
        {
            names.Add(r.GetProperty("strategy").GetString()!);
            Assert.Equal(6, r.GetProperty("convolutions").GetInt32());
            Assert.Equal(checksum, r.GetProperty("checksum").GetString());
            var wall = r.GetProperty("wallMs");
            Assert.True(wall.GetProperty("min").GetDouble() <= wall.GetProperty("median").GetDouble());
            Assert.True(wall.GetProperty("median").GetDouble() <= wall.GetProperty("max").GetDouble());
            Assert.True(r.GetProperty("speedup").GetDouble() > 0);
            Assert.True(r.GetProperty("throughputPerSecond").GetDouble() > 0);
            AssertBreakdownAddsUp(r);
        }
        Assert.Equal(new[] { "serial", "parallel", "parallel-rows", "fused", "hangfire", "hangfire-fused" }, names);
        Assert.Equal(1.0, results[0].GetProperty("speedup").GetDouble());
        Assert.Equal(6, results[4].GetProperty("nodes").EnumerateObject().Sum(n => n.Value.GetInt32()));
        Assert.Equal(6, results[5].GetProperty("nodes").EnumerateObject().Sum(n => n.Value.GetInt32()));

        // Benchmark convolutions are measurement, not user jobs: they do not linger in the job list.
        var jobs = await (await client.GetAsync("/convolutions?limit=1000")).ReadJsonAsync();
        foreach (var job in jobs.GetProperty("items").EnumerateArray())
            Assert.NotEqual("[64,50]", job.GetProperty("request").GetProperty("image").GetProperty("shape").GetRawText().Replace(" ", ""));

        var chart = await client.GetAsync($"/benchmarks/{report.GetProperty("id").GetString()}/chart.svg");
        Assert.Equal(HttpStatusCode.OK, chart.StatusCode);
        Assert.Equal("image/svg+xml", chart.Content.Headers.ContentType?.MediaType);
        string svg = await chart.Content.ReadAsStringAsync();
        Assert.StartsWith("<svg", svg);
        Assert.Contains("hangfire", svg);
        Assert.Contains("hangfire-fused", svg);
        System.Xml.Linq.XDocument.Parse(svg); // well-formed XML
    }

    [Fact]
    public async Task Submit_EmptyBody_NormalizesToTheTutorialDefaults()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/benchmarks", ApiClient.Json("{}"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var report = await response.ReadJsonAsync();
        var request = report.GetProperty("request");
        Assert.Equal("[3000,3000]", request.GetProperty("image").GetProperty("shape").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        Assert.Equal("zeros", request.GetProperty("image").GetProperty("fill").GetString());
        Assert.Equal(Environment.ProcessorCount, request.GetProperty("kernel").GetProperty("count").GetInt32());
        Assert.Equal(100, request.GetProperty("iterations").GetInt32());
        Assert.Equal("full", request.GetProperty("mode").GetString());
        Assert.Equal(5, request.GetProperty("stride")[0].GetInt32());
        Assert.Equal(3, request.GetProperty("repetitions").GetInt32());
        Assert.Equal(1, request.GetProperty("warmup").GetInt32());
        Assert.Equal(["serial", "parallel", "fused", "hangfire"], request.GetProperty("strategies").EnumerateArray().Select(s => s.GetString()!));

        // Cancel it: a queued or running benchmark answers 200 cancelled, then DELETE again removes it.
        string id = report.GetProperty("id").GetString()!;
        var cancel = await client.DeleteAsync($"/benchmarks/{id}");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await cancel.ReadJsonAsync()).GetProperty("status").GetString());
        var after = await (await client.GetAsync($"/benchmarks/{id}?wait=30")).ReadJsonAsync();
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        await (await client.GetAsync($"/benchmarks/{id}/chart.svg")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/benchmarks/{id}")).StatusCode);
        await (await client.GetAsync($"/benchmarks/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    public static TheoryData<string, string> BadBenchmarks => new()
    {
        { """{"strategies": ["serial", "ray"]}""", "ray" },
        { """{"strategies": []}""", "empty" },
        { """{"strategies": ["serial", "serial"]}""", "twice" },
        { """{"iterations": 0}""", "iterations" },
        { """{"repetitions": -1}""", "repetitions" },
        { """{"warmup": 99}""", "warmup" },
        { """{"kernel": {"count": 0}}""", "kernel.count" },
        { """{"image": {"shape": [3000]}}""", "shape" },
        { """{"image": {"shape": [10, 10], "arrayId": "abc"}}""", "either" },
        { """{"stride": 0}""", "stride" },
        { """{"iterations": "many"}""", "integer" },
        { """{"mode": "circular"}""", "full, same or valid" },
        { """{"iteration": 5}""", "iteration" },
    };

    [Theory]
    [MemberData(nameof(BadBenchmarks))]
    public async Task Submit_BadRequest_Returns400(string body, string fragment)
    {
        using var client = factory.CreateClient();
        await (await client.PostAsync("/benchmarks", ApiClient.Json(body))).AssertProblemAsync(HttpStatusCode.BadRequest, fragment);
    }

    [Fact]
    public async Task Submit_ValidModeRefusedByScipy_Returns422()
    {
        using var client = factory.CreateClient();
        await (await client.PostAsync("/benchmarks", ApiClient.Json("""{"image": {"shape": [2, 50]}, "kernel": {"shape": [4, 4]}, "mode": "valid"}""")))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at least as large");
    }

    [Fact]
    public async Task Get_UnknownOrMalformedId_Returns404()
    {
        using var client = factory.CreateClient();
        await (await client.GetAsync("/benchmarks/" + new string('f', 32))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/benchmarks/nope/chart.svg")).AssertProblemAsync(HttpStatusCode.NotFound, "32 lowercase hex");
    }

    /// <summary>
    /// The breakdown's parts add up to the worker time per convolution (within 5 %), and that time, × convolutions ÷ workers,
    /// is a wall time the strategy actually took (between its fastest and slowest repetition, 5 % either side).
    /// </summary>
    private static void AssertBreakdownAddsUp(JsonElement result)
    {
        string strategy = result.GetProperty("strategy").GetString()!;
        var b = result.GetProperty("breakdown");
        double perConvolution = b.GetProperty("workerMsPerConvolution").GetDouble();
        double parts = b.GetProperty("convolveMs").GetDouble() + b.GetProperty("summarizeMs").GetDouble() + b.GetProperty("otherMs").GetDouble();
        Assert.True(b.GetProperty("summarizeMs").GetDouble() >= 0, strategy);
        foreach (var stage in new[] { "markRunningMs", "loadInputsMs", "storeMs" })
        {
            var value = b.GetProperty(stage);
            if (strategy is "hangfire" or "hangfire-fused")
            {
                Assert.True(value.GetDouble() >= 0, $"{strategy} {stage} = {value}");
                parts += value.GetDouble();
            }
            else Assert.Equal(JsonValueKind.Null, value.ValueKind);
        }
        Assert.True(b.GetProperty("convolveMs").GetDouble() > 0, strategy);
        Assert.True(Math.Abs(parts - perConvolution) <= 0.05 * perConvolution, $"{strategy}: parts {parts} vs {perConvolution}");
        double wall = perConvolution * result.GetProperty("convolutions").GetInt32() / result.GetProperty("workers").GetInt32();
        var wallMs = result.GetProperty("wallMs");
        Assert.InRange(wall, 0.95 * wallMs.GetProperty("min").GetDouble(), 1.05 * wallMs.GetProperty("max").GetDouble());
        if (strategy is "hangfire" or "hangfire-fused")
        {
            Assert.True(b.GetProperty("enqueueMs").GetDouble() > 0);
            Assert.True(b.GetProperty("queueWaitMs").GetDouble() >= 0);
        }
    }
}

public sealed class BenchmarkBudgetTests
{
    [Fact]
    public async Task Submit_FiltersOverArrayStoreBudget_Returns422BeforeGeneratingThem()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:ArrayStoreBytes", "8000000");
        using var client = factory.CreateClient();
        await (await client.PostAsync("/benchmarks", ApiClient.Json("""{"image": {"shape": [100, 100]}, "kernel": {"shape": [100, 100], "count": 100}, "iterations": 1, "stride": 50}""")))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "ArrayStoreBytes");
    }

    [Fact]
    public async Task Submit_OverWorkBudget_Returns422SayingHowToShrinkIt()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxBenchmarkSeconds", "1");
        using var client = factory.CreateClient();
        await (await client.PostAsync("/benchmarks", ApiClient.Json("""{"method": "naive"}""")))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Lower iterations");
    }
}
