using System.IO.Compression;
using System.Net;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Fits;
using ConvService.Core.Npy;

namespace ConvService.Api.Tests;

/// <summary>FITS in and out of POST /arrays, GET /arrays/{id} and GET /convolutions/{id}/result; hostile files refused.</summary>
public sealed class FitsApiTests : IClassFixture<ConvServiceFactory>
{
    private static readonly FitsReadLimits ReadBack = new(1 << 24, 1 << 20, 1 << 26);
    private readonly ConvServiceFactory _factory;

    public FitsApiTests(ConvServiceFactory factory)
    {
        // Low enough that the fixture's gzip bomb (64 MiB of zeros) is over it.
        _factory = factory.With("ConvService:Limits:MaxInflatedBytes", (16 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "fits", name));

    private static Array2D Expected(string name) => NpyCodec.Read(Fixture(name), 1 << 24);

    private static async Task<string> UploadAsync(HttpClient client, byte[] body, string query = "", string type = "application/fits")
    {
        var response = await client.PostAsync("/arrays" + query, ApiClient.Bytes(body, type));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Upload_AstropyWcsImage_ServedBackAsFitsWithItsHeader()
    {
        using var client = _factory.CreateClient();
        string id = await UploadAsync(client, Fixture("wcs.fits"));
        var response = await client.SendAsync(ApiClient.Get($"/arrays/{id}", "application/fits"));
        Assert.Equal("application/fits", response.Content.Headers.ContentType?.MediaType);
        var back = FitsReader.Read(await response.Content.ReadAsByteArrayAsync(), ReadBack);
        Assert.Equal(Expected("wcs.expected.npy").Data, back.Data.Data);
        Assert.Equal("RA---TAN", back.Header.GetString("CTYPE1"));
        Assert.Equal(10.5, back.Header.GetDouble("CRPIX1"));
        Assert.Equal(-64, back.Header.GetLong("BITPIX"));
    }

    [Fact]
    public async Task Upload_GzipBodyOrContentEncoding_SameArrayAsPlain()
    {
        using var client = _factory.CreateClient();
        byte[] plain = Fixture("bitpix16.fits");
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(plain);
        string viaPlain = await UploadAsync(client, plain);
        string viaBody = await UploadAsync(client, compressed.ToArray());
        var encoded = ApiClient.Bytes(compressed.ToArray(), "application/fits");
        encoded.Headers.ContentEncoding.Add("gzip");
        var response = await client.PostAsync("/arrays", encoded);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(viaPlain, viaBody);
        Assert.Equal(viaPlain, (await response.ReadJsonAsync()).GetProperty("id").GetString());
        Assert.Equal(await UploadAsync(client, Fixture("compressed.fits.gz")), await UploadAsync(client, NpyCodec.Write(Expected("compressed.expected.npy")), type: "application/x-npy"));
    }

    [Theory]
    [InlineData("?hdu=3")]
    [InlineData("?hdu=ERR")]
    public async Task Upload_HduQuery_PicksThatImage(string query)
    {
        using var client = _factory.CreateClient();
        string id = await UploadAsync(client, Fixture("extensions.fits"), query);
        string expected = await UploadAsync(client, NpyCodec.Write(Expected("extensions.err.expected.npy")), type: "application/x-npy");
        Assert.Equal(expected, id);
    }

    [Fact]
    public async Task Upload_HduQueryOnJson_Returns400()
    {
        using var client = _factory.CreateClient();
        var response = await client.PostAsync("/arrays?hdu=1", ApiClient.Json("""{"data": [[1]]}"""));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "FITS upload");
    }

    public static TheoryData<string, int, string> HostileFiles => new()
    {
        { "bad_truncated_data.fits", 400, "truncated" },
        { "bad_truncated_header.fits", 400, "END card" },
        { "bad_lying_naxis.fits", 400, "truncated" },
        { "bad_huge_naxis.fits", 413, "MaxImagePixels" },
        { "bad_overflow_naxis.fits", 413, "more data than any file can hold" },
        { "bad_cube.fits", 415, "3-D cube" },
        { "bad_table_only.fits", 415, "BINTABLE" },
        { "bad_1d.fits", 415, "1-D" },
        { "bad_no_end.fits", 413, "MaxFitsHeaderBytes" },
        { "bad_bitpix.fits", 400, "BITPIX" },
        { "bad_gzip_bomb.fits.gz", 413, "MaxInflatedBytes" },
        { "bad_not_fits.fits", 400, "not a FITS file" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public async Task Upload_HostileFits_RefusedWithProblem(string file, int status, string detail)
    {
        using var client = _factory.CreateClient();
        var response = await client.PostAsync("/arrays", ApiClient.Bytes(Fixture(file), "application/fits"));
        await response.AssertProblemAsync((HttpStatusCode)status, detail);
    }

    [Fact]
    public async Task Upload_ContentEncodingBrotli_Returns415()
    {
        using var client = _factory.CreateClient();
        var content = ApiClient.Bytes(Fixture("bitpix8.fits"), "application/fits");
        content.Headers.ContentEncoding.Add("br");
        await (await client.PostAsync("/arrays", content)).AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "gzip");
    }

    [Fact]
    public async Task Result_AsFits_KeepsWcsMovedForCropAndStrideAndAddsHistory()
    {
        using var client = _factory.CreateClient();
        string image = await UploadAsync(client, Fixture("wcs.fits"));
        var job = await client.SubmitAndWaitAsync(
            $$"""{"image": {"arrayId": "{{image}}"}, "kernel": {"data": [[1, 2, 1], [2, 4, 2], [1, 2, 1]]}, "mode": "full", "stride": 2}""");
        string id = job.GetProperty("id").GetString()!;
        var fits = await client.SendAsync(ApiClient.Get($"/convolutions/{id}/result", "application/fits"));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        var result = FitsReader.Read(await fits.Content.ReadAsByteArrayAsync(), ReadBack);
        var npy = await client.SendAsync(ApiClient.Get($"/convolutions/{id}/result", "application/x-npy"));
        Assert.Equal(NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue).Data, result.Data.Data);
        // Full mode with a 3×3 kernel starts one pixel before the input; stride 2 halves the grid.
        Assert.Equal((10.5 - 1 + 1) / 2 + 1, result.Header.GetDouble("CRPIX1"));
        Assert.Equal((7.25 - 1 + 1) / 2 + 1, result.Header.GetDouble("CRPIX2"));
        Assert.Equal(-5e-4, result.Header.GetDouble("CDELT1"));
        Assert.Equal("DEC--TAN", result.Header.GetString("CTYPE2"));
        string history = string.Join(" ", result.Header.Cards.Where(c => c.Keyword == "HISTORY").Select(c => c.Raw[8..].TrimEnd()));
        Assert.Contains($"ConvService job {id}", history);
        Assert.Contains("scipy.signal.convolve2d(image, kernel, mode='full', boundary='fill', fillvalue=0)[::2, ::2]", history);
    }

    [Fact]
    public async Task Result_AsFitsOfNonFitsInput_HasHistoryOnly()
    {
        using var client = _factory.CreateClient();
        var job = await client.SubmitAndWaitAsync("""{"image": {"data": [[1, 2], [3, 4]]}, "kernel": {"data": [[1]]}}""");
        var fits = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "application/fits"));
        var result = FitsReader.Read(await fits.Content.ReadAsByteArrayAsync(), ReadBack);
        Assert.Equal(new[] { 1.0, 2, 3, 4 }, result.Data.Data);
        Assert.Null(result.Header.Find("CRPIX1"));
        Assert.Contains(result.Header.Cards, c => c.Keyword == "HISTORY");
    }
}
