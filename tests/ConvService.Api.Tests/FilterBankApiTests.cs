using System.Globalization;
using System.Net;
using System.Text.Json;

namespace ConvService.Api.Tests;

/// <summary>POST /convolutions with "kernels" (filter banks) and "operation": "correlate"; their results and refusals.</summary>
public sealed class FilterBankApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private const string Image = """{"data": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]}""";
    private const string K0 = """{"data": [[0, 1], [1, 0]]}""";
    private const string K1 = """{"data": [[1, -1], [2, 0.5]]}""";
    private const string K2 = """{"data": [[3]]}""";

    [Fact]
    public async Task Submit_Bank_EachResultEqualsItsSingleJobAndTheStackHoldsThemAll()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K1}}], "mode": "full", "stride": [1, 2]}""");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("result").ValueKind);
        var results = job.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal(2, job.GetProperty("request").GetProperty("kernels").GetArrayLength());
        string id = job.GetProperty("id").GetString()!;
        Assert.NotEqual(results[0].GetProperty("arrayId").GetString(), results[1].GetProperty("arrayId").GetString());

        var stack = await client.GetAsync($"/convolutions/{id}/results");
        Assert.Equal(HttpStatusCode.OK, stack.StatusCode);
        Assert.Equal("application/x-npy", stack.Content.Headers.ContentType?.MediaType);
        byte[] npy = await stack.Content.ReadAsByteArrayAsync();
        Assert.Contains("'shape': (2, 4, 3)", System.Text.Encoding.ASCII.GetString(npy, 0, 128));

        string[] kernels = [K0, K1];
        for (int k = 0; k < 2; k++)
        {
            var single = await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernel": {{kernels[k]}}, "mode": "full", "stride": [1, 2]}""");
            Assert.Equal(single.GetProperty("result").GetProperty("checksum").GetString(), results[k].GetProperty("checksum").GetString());
            var json = await (await client.GetAsync($"/convolutions/{id}/result?index={k}")).ReadJsonAsync();
            var expected = await (await client.GetAsync($"/convolutions/{single.GetProperty("id").GetString()}/result")).ReadJsonAsync();
            Assert.Equal(expected.GetRawText(), json.GetRawText());
            // The stack's k-th slab is the k-th result, bit for bit.
            var fromStack = new double[12];
            Buffer.BlockCopy(npy, npy.Length - (2 - k) * 12 * 8, fromStack, 0, 12 * 8);
            Assert.Equal(ApiClient.ToRows(expected).SelectMany(r => r), fromStack);
            var png = await client.SendAsync(ApiClient.Get($"/convolutions/{id}/result?index={k}", "image/png"));
            Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        }
        var byId = await client.GetAsync($"/arrays/{results[1].GetProperty("arrayId").GetString()}");
        Assert.Equal(HttpStatusCode.OK, byId.StatusCode);
    }

    [Fact]
    public async Task GetResult_BankWithoutOrWithBadIndex_Returns400()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K1}}]}""");
        string id = job.GetProperty("id").GetString()!;
        await (await client.GetAsync($"/convolutions/{id}/result")).AssertProblemAsync(HttpStatusCode.BadRequest, "index=0 to 1");
        await (await client.GetAsync($"/convolutions/{id}/result?index=2")).AssertProblemAsync(HttpStatusCode.BadRequest, "out of range");
        await (await client.GetAsync($"/convolutions/{id}/result?index=x")).AssertProblemAsync(HttpStatusCode.BadRequest, "not a result index");
        var single = await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernel": {{K0}}}""");
        string singleId = single.GetProperty("id").GetString()!;
        Assert.False(single.TryGetProperty("results", out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/convolutions/{singleId}/result?index=0")).StatusCode);
        await (await client.GetAsync($"/convolutions/{singleId}/result?index=1")).AssertProblemAsync(HttpStatusCode.BadRequest, "one kernel");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/convolutions/{singleId}/results")).StatusCode);
    }

    [Fact]
    public async Task Submit_BankOfDifferentSizesInSameMode_Succeeds()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K2}}, {"data": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]}], "mode": "same"}""");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(3, job.GetProperty("results").GetArrayLength());
    }

    [Theory]
    [InlineData($$"""{"image": {{Image}}, "kernel": {{K0}}, "kernels": [{{K1}}]}""", HttpStatusCode.BadRequest, "not both")]
    [InlineData($$"""{"image": {{Image}}}""", HttpStatusCode.BadRequest, "kernels")]
    [InlineData($$"""{"image": {{Image}}, "kernels": []}""", HttpStatusCode.BadRequest, "empty")]
    [InlineData($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K2}}]}""", HttpStatusCode.UnprocessableEntity, "one shape")]
    [InlineData($$"""{"image": {{Image}}, "kernels": [{{K0}}, {"data": []}]}""", HttpStatusCode.BadRequest, "kernels[1]")]
    [InlineData($$"""{"image": {{Image}}, "kernels": [{"data": [[1, 2, 1], [2, 4, 2], [1, 2, 1]]}], "nanTreatment": "interpolate"}""", HttpStatusCode.UnprocessableEntity, "nanTreatment")]
    [InlineData($$"""{"image": {{Image}}, "kernel": {{K0}}, "operation": "convolute"}""", HttpStatusCode.BadRequest, "correlate")]
    [InlineData($$"""{"image": {{Image}}, "kernels": [{{K0}}], "method": "gpu"}""", HttpStatusCode.UnprocessableEntity, "filter banks")]
    [InlineData($$"""{"image": {{Image}}, "kernel": {{K0}}, "method": "gpu", "operation": "correlate"}""", HttpStatusCode.UnprocessableEntity, "correlate")]
    [InlineData($$"""{"image": {{Image}}, "kernel": {"data": [[1, 2, 1], [2, 4, 2], [1, 2, 1]]}, "operation": "correlate", "nanTreatment": "fill"}""", HttpStatusCode.UnprocessableEntity, "correlation")]
    public async Task Submit_BadBankOrOperation_ReturnsProblem(string body, HttpStatusCode status, string fragment)
    {
        using var client = factory.CreateClient();
        await (await client.PostAsync("/convolutions", ApiClient.Json(body))).AssertProblemAsync(status, fragment);
    }

    [Fact]
    public async Task Submit_BankOverTheKernelLimitOrTheOutputLimit_Returns422()
    {
        using var limited = new ConvServiceFactory().With("ConvService:Limits:MaxBankKernels", "2").With("ConvService:Limits:MaxOutputPixels", "30");
        using var client = limited.CreateClient();
        await (await client.PostAsync("/convolutions", ApiClient.Json($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K1}}, {{K0}}]}""")))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "MaxBankKernels");
        // One 4×5 output fits in 30 values; the bank's two (40 values) do not.
        Assert.Equal("succeeded", (await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernel": {{K0}}}""")).GetProperty("status").GetString());
        await (await client.PostAsync("/convolutions", ApiClient.Json($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K1}}]}""")))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "2 × 4×5");
    }

    [Fact]
    public async Task Delete_FinishedBank_DeletesEveryResult()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync($$"""{"image": {{Image}}, "kernels": [{{K0}}, {{K1}}]}""");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/convolutions/{job.GetProperty("id").GetString()}")).StatusCode);
        foreach (var result in job.GetProperty("results").EnumerateArray())
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/arrays/{result.GetProperty("arrayId").GetString()}")).StatusCode);
    }

    [Theory]
    [InlineData("grid_7x9_k4x4_same_fill_f1p5")]
    [InlineData("grid_7x9_k2x5_same_symm_f0p0")]
    [InlineData("bigkernel_3x4_k5x7_valid_wrap")]
    [InlineData("stride_13x17_k4x3_s2x3_full_wrap")]
    public async Task Submit_Correlate_MatchesScipyAloneAndInABank(string name)
    {
        var root = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "correlate2d_cases.json"))).RootElement;
        var c = root.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        string Data(string key) => JsonSerializer.Serialize(ToRows(root.GetProperty("arrays").GetProperty(c.GetProperty(key).GetString()!)));
        string options = $"\"mode\": \"{c.GetProperty("mode").GetString()}\", \"boundary\": \"{c.GetProperty("boundary").GetString()}\", " +
            $"\"fillValue\": {c.GetProperty("fill").GetDouble().ToString("R", CultureInfo.InvariantCulture)}, " +
            $"\"stride\": [{c.GetProperty("strideY").GetInt32()}, {c.GetProperty("strideX").GetInt32()}], \"operation\": \"correlate\"";
        var expected = ToRows(c.GetProperty("expected"));
        using var client = factory.CreateClient();
        var single = await client.SubmitAndWaitAsync($$"""{"image": {"data": {{Data("image")}}}, "kernel": {"data": {{Data("kernel")}}}, {{options}}}""");
        Assert.Equal("correlate", single.GetProperty("request").GetProperty("operation").GetString());
        AssertClose(expected, ApiClient.ToRows(await (await client.GetAsync($"/convolutions/{single.GetProperty("id").GetString()}/result")).ReadJsonAsync()));
        var bank = await client.SubmitAndWaitAsync($$"""{"image": {"data": {{Data("image")}}}, "kernels": [{"data": {{Data("kernel")}}}, {"data": {{Data("kernel")}}}], {{options}}}""");
        AssertClose(expected, ApiClient.ToRows(await (await client.GetAsync($"/convolutions/{bank.GetProperty("id").GetString()}/result?index=1")).ReadJsonAsync()));
    }

    private static double[][] ToRows(JsonElement array)
    {
        int rows = array.GetProperty("rows").GetInt32(), cols = array.GetProperty("cols").GetInt32();
        var values = array.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return [.. Enumerable.Range(0, rows).Select(i => values[(i * cols)..((i + 1) * cols)])];
    }

    private static void AssertClose(double[][] expected, double[][] actual)
    {
        double scale = Math.Max(1, expected.SelectMany(r => r).Select(Math.Abs).DefaultIfEmpty(0).Max());
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            for (int j = 0; j < expected[i].Length; j++)
                Assert.True(Math.Abs(expected[i][j] - actual[i][j]) <= 1e-12 * scale, $"({i}, {j}): {actual[i][j]:R} vs {expected[i][j]:R}");
    }
}
