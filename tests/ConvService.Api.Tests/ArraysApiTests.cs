using System.Net;
using ConvService.Core.Arrays;
using ConvService.Core.Imaging;
using ConvService.Core.Npy;

namespace ConvService.Api.Tests;

public sealed class ArraysApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    [Fact]
    public async Task Upload_Json_Returns201WithContentIdAndLocation()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/arrays", ApiClient.Json("""{"data": [[1.5, 2], [3, 4], [5, 6]]}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var info = await response.ReadJsonAsync();
        string id = info.GetProperty("id").GetString()!;
        Assert.Equal(64, id.Length);
        Assert.Equal($"/arrays/{id}", response.Headers.Location!.ToString());
        Assert.Equal(3, info.GetProperty("shape")[0].GetInt32());
        Assert.Equal(2, info.GetProperty("shape")[1].GetInt32());
        Assert.Equal("float64", info.GetProperty("dtype").GetString());
        Assert.Equal(48, info.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Upload_SameContentAsJsonAndNpy_GivesSameId()
    {
        using var client = factory.CreateClient();
        var viaJson = await (await client.PostAsync("/arrays", ApiClient.Json("""{"data": [[7, 8, 9]]}"""))).ReadJsonAsync();
        var npy = NpyCodec.Write(Array2D.FromArray(new double[,] { { 7, 8, 9 } }));
        var viaNpy = await (await client.PostAsync("/arrays", ApiClient.Bytes(npy, "application/x-npy"))).ReadJsonAsync();
        Assert.Equal(viaJson.GetProperty("id").GetString(), viaNpy.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Get_InEachFormat_RoundTrips()
    {
        using var client = factory.CreateClient();
        var original = Array2D.FromArray(new double[,] { { 0, 100, 200 }, { 300, 400, 1000 } });
        var id = (await (await client.PostAsync("/arrays", ApiClient.Bytes(NpyCodec.Write(original), "application/x-npy"))).ReadJsonAsync()).GetProperty("id").GetString();

        var json = await (await client.GetAsync($"/arrays/{id}")).ReadJsonAsync();
        Assert.Equal(new[] { new[] { 0.0, 100, 200 }, new[] { 300.0, 400, 1000 } }, ApiClient.ToRows(json.GetProperty("data")));

        var npy = await client.SendAsync(ApiClient.Get($"/arrays/{id}", "application/x-npy"));
        Assert.Equal(original.Data, NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue).Data);

        var png = await client.SendAsync(ApiClient.Get($"/arrays/{id}", "image/png"));
        var preview = PngCodec.Decode(await png.Content.ReadAsByteArrayAsync(), 100);
        Assert.Equal(0, preview[0, 0]);
        Assert.Equal(255, preview[1, 2]);
    }

    [Fact]
    public async Task Upload_Gray16Png_KeepsExactSampleValues()
    {
        using var client = factory.CreateClient();
        var original = Array2D.FromArray(new double[,] { { 0, 65535 }, { 1234, 40000 } });
        var response = await client.PostAsync("/arrays", ApiClient.Bytes(PngCodec.EncodeGray16(original), "image/png"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        string id = (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
        var json = await (await client.GetAsync($"/arrays/{id}")).ReadJsonAsync();
        Assert.Equal(new[] { new[] { 0.0, 65535 }, new[] { 1234.0, 40000 } }, ApiClient.ToRows(json.GetProperty("data")));
    }

    [Fact]
    public async Task Upload_CorruptNpy_Returns400()
    {
        using var client = factory.CreateClient();
        var npy = NpyCodec.Write(Array2D.FromArray(new double[,] { { 1, 2 } }));
        var truncated = npy[..^4];
        await (await client.PostAsync("/arrays", ApiClient.Bytes(truncated, "application/x-npy"))).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.PostAsync("/arrays", ApiClient.Bytes("hello"u8.ToArray(), "application/x-npy"))).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Upload_NpyHeaderClaimingHugeShape_Returns413BeforeReadingData()
    {
        using var client = factory.CreateClient();
        string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }";
        header = header.PadRight(128 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange(new byte[] { 1, 0, (byte)header.Length, 0 });
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        bytes.AddRange(new byte[64]);
        await (await client.PostAsync("/arrays", ApiClient.Bytes(bytes.ToArray(), "application/x-npy"))).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Upload_PngBomb_Returns413()
    {
        using var client = factory.CreateClient();
        // A valid signature and IHDR claiming 100000×100000 pixels, followed by no data.
        var png = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };
        byte[] chunk = [.. "IHDR"u8, 0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 0, 0, 0, 0];
        png.AddRange(chunk);
        uint crc = Crc32(chunk);
        png.AddRange(new[] { (byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc });
        await (await client.PostAsync("/arrays", ApiClient.Bytes(png.ToArray(), "image/png"))).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public async Task Upload_UnsupportedContentType_Returns415()
    {
        using var client = factory.CreateClient();
        await (await client.PostAsync("/arrays", ApiClient.Bytes([1, 2, 3], "text/csv"))).AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "application/x-npy");
    }

    [Fact]
    public async Task Delete_ThenGet_Returns404()
    {
        using var client = factory.CreateClient();
        var id = (await (await client.PostAsync("/arrays", ApiClient.Json("""{"data": [[42, 43]]}"""))).ReadJsonAsync()).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/arrays/{id}")).StatusCode);
        await (await client.GetAsync($"/arrays/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, "POST /arrays");
        await (await client.DeleteAsync($"/arrays/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/arrays/NOT-HEX")).AssertProblemAsync(HttpStatusCode.NotFound, "64 lowercase hex");
    }
}

public sealed class ArrayStoreEvictionTests
{
    [Fact]
    public async Task Upload_BeyondByteBudget_EvictsLeastRecentlyUsed()
    {
        // 1 KiB budget holds one 100-value array (800 bytes) at a time.
        using var factory = new ConvServiceFactory().With("ConvService:Limits:ArrayStoreBytes", "1024");
        using var client = factory.CreateClient();
        string Row(int seed) => "{\"data\": [[" + string.Join(",", Enumerable.Range(seed, 100)) + "]]}";
        var first = (await (await client.PostAsync("/arrays", ApiClient.Json(Row(0)))).ReadJsonAsync()).GetProperty("id").GetString();
        var second = (await (await client.PostAsync("/arrays", ApiClient.Json(Row(1)))).ReadJsonAsync()).GetProperty("id").GetString();
        await (await client.GetAsync($"/arrays/{first}")).AssertProblemAsync(HttpStatusCode.NotFound, "evicted");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/arrays/{second}")).StatusCode);

        var tooBig = "{\"data\": [[" + string.Join(",", Enumerable.Range(0, 200)) + "]]}";
        await (await client.PostAsync("/arrays", ApiClient.Json(tooBig))).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "ArrayStoreBytes");
    }

    [Fact]
    public async Task Post_BodyOverRequestLimit_Returns413()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxRequestBytes", "2048");
        using var client = factory.CreateClient();
        var body = "{\"data\": [[" + string.Join(",", Enumerable.Range(0, 2000)) + "]]}";
        await (await client.PostAsync("/arrays", ApiClient.Json(body))).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "MaxRequestBytes");
    }

    [Fact]
    public async Task Get_OverJsonLimit_Returns406_ButServesNpy_ForArraysAndResults()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxJsonResultValues", "10");
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync("""{"image": {"generate": {"shape": [4, 4], "seed": 1, "fill": "normal"}}, "kernel": {"data": [[1, 2]]}}""");
        string imageId = job.GetProperty("request").GetProperty("image").GetProperty("arrayId").GetString()!;
        string jobId = job.GetProperty("id").GetString()!;

        var array = await (await client.GetAsync($"/arrays/{imageId}")).AssertProblemAsync(HttpStatusCode.NotAcceptable, "16 values, over the JSON limit of 10");
        Assert.Equal("Array too large for JSON", array.GetProperty("title").GetString());
        var result = await (await client.GetAsync($"/convolutions/{jobId}/result")).AssertProblemAsync(HttpStatusCode.NotAcceptable, "20 values, over the JSON limit of 10");
        Assert.Equal("Result too large for JSON", result.GetProperty("title").GetString());

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ApiClient.Get($"/arrays/{imageId}", "application/x-npy"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ApiClient.Get($"/convolutions/{jobId}/result", "application/x-npy"))).StatusCode);
    }

    [Fact]
    public async Task Submit_WhenQueueFull_Returns429WithRetryAfter()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxQueuedJobs", "1");
        using var client = factory.CreateClient();
        await client.AssertSecondRefusedWith429Async("/convolutions",
            """{"image": {"generate": {"shape": [1500, 1500], "fill": "uniform"}}, "kernel": {"generate": {"shape": [41, 41]}}, "mode": "same", "method": "naive"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}}""", "MaxQueuedJobs");
    }

    [Fact]
    public void Start_WithInvalidLimits_FailsAtBoot()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxQueuedJobs", "0");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("MaxQueuedJobs", error.ToString());
    }
}

public sealed class SwaggerTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    [Fact]
    public async Task SwaggerDocument_ListsEveryEndpointWithTutorialExample()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string doc = await response.Content.ReadAsStringAsync();
        foreach (var path in new[] { "/convolutions", "/convolutions/{id}", "/convolutions/{id}/result", "/arrays", "/arrays/{id}", "/health/ready" })
            Assert.Contains($"\"{path}\"", doc);
        Assert.Contains("3000", doc);
        Assert.Contains("application/problem+json", doc);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Fact]
    public async Task Ready_WithHangfireServerRunning_Returns200()
    {
        using var client = factory.CreateClient();
        var response = await client.WaitUntilReadyAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", (await response.ReadJsonAsync()).GetProperty("status").GetString());
    }
}
