using System.Globalization;
using System.Net;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Npy;

namespace ConvService.Api.Tests;

/// <summary>POST /convolutions with nanTreatment: astropy.convolution.convolve's results, and its refusals as 4xx.</summary>
public sealed class NanAwareConvolutionApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private static JsonElement Fixture() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "astropy_convolve_cases.json"))).RootElement;

    private static Array2D ReadArray(JsonElement e)
    {
        int rows = e.GetProperty("rows").GetInt32(), cols = e.GetProperty("cols").GetInt32();
        return new Array2D(rows, cols, [.. e.GetProperty("data").EnumerateArray().Select(v =>
            v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetDouble())]);
    }

    private static async Task<string> UploadNpyAsync(HttpClient client, Array2D array)
    {
        var response = await client.PostAsync("/arrays", ApiClient.Bytes(NpyCodec.Write(array), "application/x-npy"));
        return (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
    }

    [Theory]
    [InlineData("holed-gauss-fill-0-interpolate-norm-fillnan-s1x1")]
    [InlineData("speckled-gauss-extend-0-fill-raw-keepnan-s1x1")]
    [InlineData("speckled-tall-wrap-0-interpolate-norm-keepnan-s3x2")]
    public async Task Submit_NanTreatment_MatchesAstropy(string name)
    {
        var root = Fixture();
        var c = root.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        using var client = factory.CreateClient();
        string image = await UploadNpyAsync(client, ReadArray(root.GetProperty("arrays").GetProperty(c.GetProperty("image").GetString()!)));
        string kernel = await UploadNpyAsync(client, ReadArray(root.GetProperty("arrays").GetProperty(c.GetProperty("kernel").GetString()!)));
        string body = $$"""
            {"image": {"arrayId": "{{image}}"}, "kernel": {"arrayId": "{{kernel}}"}, "boundary": "{{c.GetProperty("boundary").GetString()}}",
             "fillValue": {{c.GetProperty("fillValue").GetDouble().ToString("R", CultureInfo.InvariantCulture)}},
             "nanTreatment": "{{c.GetProperty("nanTreatment").GetString()}}", "normalizeKernel": {{(c.GetProperty("normalizeKernel").GetBoolean() ? "true" : "false")}},
             "preserveNan": {{(c.GetProperty("preserveNan").GetBoolean() ? "true" : "false")}}, "stride": [{{c.GetProperty("strideY").GetInt32()}}, {{c.GetProperty("strideX").GetInt32()}}]}
            """;
        var job = await client.SubmitAndWaitAsync(body);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal("same", job.GetProperty("request").GetProperty("mode").GetString());
        Assert.Equal(c.GetProperty("nanTreatment").GetString(), job.GetProperty("request").GetProperty("nanTreatment").GetString());
        var npy = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "application/x-npy"));
        var actual = NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue);
        var expected = ReadArray(c.GetProperty("expected"));
        Assert.Equal((expected.Rows, expected.Cols), (actual.Rows, actual.Cols));
        double scale = expected.Data.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(1).Max();
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.True(double.IsNaN(expected.Data[i]) ? double.IsNaN(actual.Data[i]) : Math.Abs(expected.Data[i] - actual.Data[i]) <= 1e-12 * Math.Max(1, scale),
                $"{name}: value {i} is {actual.Data[i]:R}, astropy gives {expected.Data[i]:R}");
    }

    [Fact]
    public async Task Submit_PlainRequest_ShowsNoNanFields()
    {
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync("""{"image": {"data": [[1, 2], [3, 4]]}, "kernel": {"data": [[1]]}}""");
        Assert.False(job.GetProperty("request").TryGetProperty("nanTreatment", out _));
    }

    [Theory]
    [InlineData("""{"nanTreatment": "interpolate", "mode": "full"}""", 400, "mode 'same'")]
    [InlineData("""{"nanTreatment": "interpolate", "boundary": "symm"}""", 400, "fill, wrap or extend")]
    [InlineData("""{"nanTreatment": "interpolate", "boundary": "none"}""", 400, "boundary=None")]
    [InlineData("""{"nanTreatment": "smooth"}""", 400, "interpolate or fill")]
    [InlineData("""{"boundary": "extend"}""", 400, "applies with nanTreatment")]
    [InlineData("""{"nanTreatment": "interpolate", "preserveNan": "yes"}""", 400, "true or false")]
    [InlineData("""{"normalizeKernel": false}""", 400, "nanTreatment")]
    [InlineData("""{"preserveNan": true}""", 400, "nanTreatment")]
    [InlineData("""{"nanTreatment": "interpolate", "method": "fft"}""", 422, "direct summation")]
    [InlineData("""{"nanTreatment": "interpolate", "kernel": {"data": [[1, 1], [1, 1]]}}""", 422, "odd sizes")]
    [InlineData("""{"nanTreatment": "fill", "kernel": {"data": [[0, 1, 0], [1, -4, 1], [0, 1, 0]]}}""", 422, "sums to 0")]
    public async Task Submit_WhatAstropyRefuses_Returns4xx(string fields, int status, string detail)
    {
        using var client = factory.CreateClient();
        var extra = JsonDocument.Parse(fields).RootElement;
        var body = new Dictionary<string, object?>
        {
            ["image"] = new { data = new[] { new[] { 1.0, 2, 3 }, new[] { 4.0, 5, 6 }, new[] { 7.0, 8, 9 } } },
            ["kernel"] = new { data = new[] { new[] { 1.0, 2, 1 }, new[] { 2.0, 4, 2 }, new[] { 1.0, 2, 1 } } },
        };
        foreach (var p in extra.EnumerateObject()) body[p.Name] = p.Value;
        var response = await client.PostAsync("/convolutions", ApiClient.Json(JsonSerializer.Serialize(body)));
        await response.AssertProblemAsync((HttpStatusCode)status, detail);
    }

    [Fact]
    public async Task Submit_NanAwareOnFitsWithBlank_InterpolatesTheBlankPixels()
    {
        using var client = factory.CreateClient();
        var upload = await client.PostAsync("/arrays", ApiClient.Bytes(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "fits", "blank16.fits")), "application/fits"));
        string image = (await upload.ReadJsonAsync()).GetProperty("id").GetString()!;
        var job = await client.SubmitAndWaitAsync($$"""{"image": {"arrayId": "{{image}}"}, "kernel": {"data": [[1, 1, 1], [1, 1, 1], [1, 1, 1]]}, "nanTreatment": "interpolate"}""");
        var npy = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "application/x-npy"));
        var result = NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue);
        Assert.DoesNotContain(result.Data, double.IsNaN);
    }
}
