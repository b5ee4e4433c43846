using System.Net;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Imaging;
using ConvService.Core.Npy;

namespace ConvService.Api.Tests;

public sealed class ConvolutionsApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private const string SmallSame = """{"image": {"data": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, "kernel": {"data": [[0, 1], [1, 0.5]]}, "mode": "same"}""";

    [Fact]
    public async Task Submit_WithWait_Returns200WithSucceededJobAndScipyResult()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(SmallSame);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        Assert.Equal("same", job.GetProperty("request").GetProperty("mode").GetString());
        Assert.True(job.GetProperty("timing").GetProperty("totalMs").GetDouble() >= 0);
        Assert.False(string.IsNullOrEmpty(job.GetProperty("methodReason").GetString()));

        var result = await client.GetAsync($"/convolutions/{job.GetProperty("id").GetString()}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var rows = ApiClient.ToRows(await result.ReadJsonAsync());
        // scipy.signal.convolve2d([[1,2,3],[4,5,6],[7,8,9]], [[0,1],[1,0.5]], mode='same')
        double[][] expected = [[0, 1, 2], [1, 6.5, 9], [4, 14, 16.5]]; // printed by scipy 1.10.1
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task Submit_ResultOverflowingToInfinity_Succeeds_WithNonFiniteStatisticsAsNull()
    {
        // 1e308 × 10 overflows float64: the result holds +∞, which JSON has no number for.
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync("""{"image": {"data": [[1e308, 1]]}, "kernel": {"data": [[10]]}}""");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var result = job.GetProperty("result");
        Assert.Equal(10, result.GetProperty("min").GetDouble());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("max").ValueKind);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("mean").ValueKind);

        var list = await client.GetAsync("/convolutions?limit=5");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var data = await client.GetAsync($"/convolutions/{job.GetProperty("id").GetString()}/result");
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        var row = (await data.ReadJsonAsync())[0];
        Assert.Equal(JsonValueKind.Null, row[0].ValueKind);
        Assert.Equal(10, row[1].GetDouble());
    }

    [Fact]
    public async Task Submit_WithoutWait_Returns202WithLocationThatEventuallySucceeds()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(SmallSame));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("/convolutions/", location);
        var job = await response.ReadJsonAsync();
        Assert.Contains(job.GetProperty("status").GetString(), new[] { "queued", "running", "succeeded" });

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? status = null;
        while (DateTime.UtcNow < deadline && status != "succeeded")
        {
            status = (await (await client.GetAsync(location)).ReadJsonAsync()).GetProperty("status").GetString();
            if (status != "succeeded") await Task.Delay(20);
        }
        Assert.Equal("succeeded", status);
    }

    [Fact]
    public async Task GetResult_AsNpy_RoundTripsThroughCoreCodec()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync("""{"image": {"generate": {"shape": [40, 33], "fill": "normal", "seed": 7}}, "kernel": {"generate": {"shape": [4, 4], "fill": "normal", "seed": 8}}, "stride": [5, 3]}""");
        var response = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "application/x-npy"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-npy", response.Content.Headers.ContentType?.MediaType);
        var array = NpyCodec.Read(await response.Content.ReadAsByteArrayAsync(), long.MaxValue);

        var image = Core.Generators.ArrayGenerator.Generate(40, 33, Core.Generators.FillKind.Normal, 7);
        var kernel = Core.Generators.ArrayGenerator.Generate(4, 4, Core.Generators.FillKind.Normal, 8);
        var expected = Convolver.Convolve2D(image, kernel, new ConvolutionOptions(StrideY: 5, StrideX: 3, Method: ConvolutionMethod.Naive));
        Assert.Equal((expected.Rows, expected.Cols), (array.Rows, array.Cols));
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.True(Math.Abs(expected.Data[i] - array.Data[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected.Data[i])));
        var shape = job.GetProperty("result").GetProperty("shape");
        Assert.Equal(new[] { expected.Rows, expected.Cols }, new[] { shape[0].GetInt32(), shape[1].GetInt32() });
    }

    [Fact]
    public async Task GetResult_AsPng_IsMinMaxNormalizedPreview()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(SmallSame);
        var response = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "image/png"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = PngCodec.Decode(await response.Content.ReadAsByteArrayAsync(), 1_000_000);
        Assert.Equal((3, 3), (preview.Rows, preview.Cols));
        Assert.Equal(0, preview.Data.Min());
        Assert.Equal(255, preview.Data.Max());
    }

    [Fact]
    public async Task GetResult_UnsupportedAccept_Returns406()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(SmallSame);
        var response = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "text/csv"));
        await response.AssertProblemAsync(HttpStatusCode.NotAcceptable, "application/x-npy");
    }

    [Fact]
    public async Task Submit_ByArrayId_UsesUploadedArray()
    {
        using var client = factory.CreateClient();
        var upload = await client.PostAsync("/arrays", ApiClient.Bytes(NpyCodec.Write(Array2D.FromArray(new double[,] { { 1, 2 }, { 3, 4 } })), "application/x-npy"));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        string id = (await upload.ReadJsonAsync()).GetProperty("id").GetString()!;
        var job = await client.SubmitAndWaitAsync($$$"""{"image": {"arrayId": "{{{id}}}"}, "kernel": {"data": [[1]]}}""");
        Assert.Equal(id, job.GetProperty("request").GetProperty("image").GetProperty("arrayId").GetString());
        var rows = ApiClient.ToRows(await (await client.GetAsync($"/convolutions/{job.GetProperty("id").GetString()}/result")).ReadJsonAsync());
        Assert.Equal(new[] { new[] { 1.0, 2.0 }, new[] { 3.0, 4.0 } }, rows);
    }

    [Fact]
    public async Task Submit_ValidModeWithNeitherInputCovering_Returns422WithScipysReason()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            """{"image": {"data": [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]}, "kernel": {"data": [[1, 1], [1, 1], [1, 1]]}, "mode": "valid"}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at least as large");
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "{\"image\": {\"data\": [[1, 2]]}, \"kernel\": ", "" },                                            // truncated
        { "not json", "" },
        { "[]", "" },
        { """{"image": {"data": [[1, 2], [3]]}, "kernel": {"data": [[1]]}}""", "ragged" },
        { """{"image": {"data": []}, "kernel": {"data": [[1]]}}""", "empty" },
        { """{"image": {"data": [[]]}, "kernel": {"data": [[1]]}}""", "empty" },
        { """{"image": {"data": [1, 2, 3]}, "kernel": {"data": [[1]]}}""", "2-D array" },
        { """{"image": {"data": [[[1]]]}, "kernel": {"data": [[1]]}}""", "number" },
        { """{"image": {"data": [["a"]]}, "kernel": {"data": [[1]]}}""", "number" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": "fulll"}""", "full, same or valid" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "boundary": "reflect"}""", "fill, wrap or symm" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "method": "quantum"}""", "auto, direct, fft, naive or gpu" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 0}""", "stride" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [-1, 2]}""", "stride" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 1.5}""", "stride" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [1, 2, 3]}""", "stride" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 99999999999}""", "stride" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stide": 2}""", "stide" },
        { """{"image": {"data": [[1]]}}""", "kernel" },
        { """{"image": {"data": [[1]], "arrayId": "ab"}, "kernel": {"data": [[1]]}}""", "exactly one" },
        { """{"image": {"arrayId": "../../etc/passwd"}, "kernel": {"data": [[1]]}}""", "64 lowercase hex" },
        { """{"image": {"generate": {"shape": [0, 5]}}, "kernel": {"data": [[1]]}}""", "shape" },
        { """{"image": {"generate": {"shape": [5]}}, "kernel": {"data": [[1]]}}""", "shape" },
        { """{"image": {"generate": {"shape": [5, 5], "fill": "ones"}}, "kernel": {"data": [[1]]}}""", "zeros, normal or uniform" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "threads": 0}""", "threads" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "fillValue": "1"}""", "number" },
        { """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": "same", "mode": "full"}""", "" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Submit_BadBody_Returns400Problem(string body, string detailFragment)
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(body));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, detailFragment);
    }

    [Fact]
    public async Task Submit_UnknownArrayId_Returns422()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            $$$"""{"image": {"arrayId": "{{{new string('a', 64)}}}"}, "kernel": {"data": [[1]]}}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "POST /arrays");
    }

    [Fact]
    public async Task Submit_WrongContentType_Returns415()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", new StringContent(SmallSame, System.Text.Encoding.UTF8, "text/plain"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("61")]
    [InlineData("NaN")]
    public async Task Submit_WaitOutOfRange_Returns400(string wait)
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync($"/convolutions?wait={wait}", ApiClient.Json(SmallSame));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "wait");
    }

    [Fact]
    public async Task Submit_OutputOverLimit_Returns422NamingTheLimit()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            """{"image": {"generate": {"shape": [5000, 5000]}}, "kernel": {"generate": {"shape": [1000, 1000]}}}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "MaxOutputPixels");
    }

    [Fact]
    public async Task Submit_ImageOverPixelLimit_Returns413()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            """{"image": {"generate": {"shape": [100000, 100000]}}, "kernel": {"data": [[1]]}}"""));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "MaxImagePixels");
    }

    [Fact]
    public async Task Get_UnknownOrMalformedId_Returns404Problem()
    {
        using var client = factory.CreateClient();
        await (await client.GetAsync("/convolutions/" + new string('0', 32))).AssertProblemAsync(HttpStatusCode.NotFound, "No job");
        await (await client.GetAsync("/convolutions/not-an-id")).AssertProblemAsync(HttpStatusCode.NotFound, "32 lowercase hex");
        await (await client.GetAsync("/convolutions/not-an-id/result")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.DeleteAsync("/convolutions/zzz")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_FinishedJob_Returns204AndForgetsIt()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync("""{"image": {"data": [[11, 12], [13, 14]]}, "kernel": {"data": [[2]]}}""");
        string id = job.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/convolutions/{id}")).StatusCode);
        await (await client.GetAsync($"/convolutions/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync($"/convolutions/{id}/result")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_RunningJob_CancelsItAndResultIs409()
    {
        using var client = factory.CreateClient();
        // The naive loop on 1500×1500 ⊛ 41×41 takes seconds: long enough to cancel mid-run.
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            """{"image": {"generate": {"shape": [1500, 1500], "fill": "uniform", "seed": 3}}, "kernel": {"generate": {"shape": [41, 41], "fill": "uniform", "seed": 4}}, "mode": "same", "method": "naive"}"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string id = (await response.ReadJsonAsync()).GetProperty("id").GetString()!;

        var cancel = await client.DeleteAsync($"/convolutions/{id}");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await cancel.ReadJsonAsync()).GetProperty("status").GetString());
        var job = await (await client.GetAsync($"/convolutions/{id}?")).ReadJsonAsync();
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        await (await client.GetAsync($"/convolutions/{id}/result")).AssertProblemAsync(HttpStatusCode.Conflict, "cancelled");
    }

    [Fact]
    public async Task List_PagesNewestFirstWithCursor()
    {
        using var client = factory.CreateClient();
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
            ids.Add((await client.SubmitAndWaitAsync($$$"""{"image": {"data": [[{{{i}}}, 1]]}, "kernel": {"data": [[1]]}}""")).GetProperty("id").GetString()!);

        // Walk every page with a small limit; our three jobs must appear newest first and exactly once.
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await (await client.GetAsync($"/convolutions?limit=2{(after is null ? "" : "&after=" + after)}")).ReadJsonAsync();
            Assert.True(page.GetProperty("items").GetArrayLength() <= 2);
            foreach (var item in page.GetProperty("items").EnumerateArray()) seen.Add(item.GetProperty("id").GetString()!);
            after = page.GetProperty("next").GetString();
        } while (after is not null);
        var ours = seen.Where(ids.Contains).ToList();
        Assert.Equal(Enumerable.Reverse(ids), ours);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=100000")]
    [InlineData("?status=done")]
    [InlineData("?after=xyz")]
    public async Task List_BadQuery_Returns400(string query)
    {
        using var client = factory.CreateClient();
        await (await client.GetAsync("/convolutions" + query)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task List_ByStatus_ReturnsOnlyThatStatus()
    {
        using var client = factory.CreateClient();
        await client.SubmitAndWaitAsync(SmallSame);
        var page = await (await client.GetAsync("/convolutions?status=succeeded&limit=100")).ReadJsonAsync();
        Assert.True(page.GetProperty("items").GetArrayLength() >= 1);
        foreach (var item in page.GetProperty("items").EnumerateArray())
            Assert.Equal("succeeded", item.GetProperty("status").GetString());
    }
}
