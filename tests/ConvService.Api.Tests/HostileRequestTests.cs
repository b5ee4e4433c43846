using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ConvService.Core.Arrays;
using ConvService.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests;

/// <summary>
/// Issue #12's resource-exhaustion probes, each sent as a hostile client would and answered as it must be: refused
/// with the right 4xx before the node spends the memory or compute, or served without hurting other clients.
/// </summary>
public sealed class HostileRequestTests
{
    [Fact]
    public async Task SubmitBenchmark_HundredMillionTinyHangfireJobs_Returns422NamingTheJobLimit()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/benchmarks", ApiClient.Json(
            """{"image":{"shape":[1,1]},"kernel":{"shape":[1,1],"count":1024},"iterations":100000,"strategies":["hangfire"]}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "MaxBenchmarkJobs");
    }

    [Fact]
    public async Task SubmitBenchmark_TinyJobsOverBudgetOnlyByOverhead_Returns422NamingPerJobOverhead()
    {
        // 2,000 jobs of a 1×1 convolution: nothing to convolve, but 2,000 × 4 rounds × 1 ms of scheduling is 8 s.
        using var factory = new ConvServiceFactory()
            .With("ConvService:Limits:PerJobOverheadMs", "1").With("ConvService:Limits:MaxBenchmarkSeconds", "5");
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/benchmarks", ApiClient.Json(
            """{"image":{"shape":[1,1]},"kernel":{"shape":[1,1],"count":1},"iterations":2000,"strategies":["hangfire"]}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "PerJobOverheadMs");
    }

    [Fact]
    public async Task SubmitBenchmark_OverMemoryBudget_Returns422AndGeneratesNothing()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxBenchmarkBytes", "1000000");
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/benchmarks", ApiClient.Json("""{"image":{"shape":[400,400],"seed":12345},"iterations":1}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "MaxBenchmarkBytes");
        // The image would have been generated and stored under its content id before the budget check.
        var image = ConvService.Core.Generators.ArrayGenerator.Generate(400, 400, ConvService.Core.Generators.FillKind.Zeros, 12345);
        Assert.Null(await factory.Services.GetRequiredService<IArrayStore>().TryGetInfoAsync(ArrayId.Compute(image).Id));
    }

    [Fact]
    public async Task SubmitBenchmark_OverMaxQueuedBenchmarks_Returns429WithRetryAfter()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxQueuedBenchmarks", "1");
        using var client = factory.CreateClient();
        // Long enough to be still queued or running when the second arrives; cancelled at the end.
        await client.AssertSecondRefusedWith429Async("/benchmarks",
            """{"image":{"shape":[300,300]},"kernel":{"shape":[9,9],"count":1},"iterations":1000,"method":"naive","strategies":["serial"],"stride":1}""",
            """{"image":{"shape":[8,8]},"iterations":1,"strategies":["serial"]}""", "MaxQueuedBenchmarks");
    }

    [Fact]
    public async Task RunBenchmark_HangfireStrategy_NeverQueuesPastMaxQueuedJobs()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxQueuedJobs", "4");
        using var client = factory.CreateClient();
        var jobs = factory.Services.GetRequiredService<IJobStore>();
        int peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, await jobs.CountActiveAsync());
                await Task.Delay(1);
            }
        });
        var response = await client.PostAsync("/benchmarks?wait=60", ApiClient.Json(
            """{"image":{"shape":[8,8]},"kernel":{"shape":[2,2],"count":2},"iterations":20,"repetitions":1,"warmup":0,"strategies":["hangfire"],"stride":1}"""));
        await sampling.CancelAsync();
        await sampler;
        var report = await response.ReadJsonAsync();
        Assert.Equal("succeeded", report.GetProperty("status").GetString());
        Assert.InRange(peak, 1, 2); // the window: half of MaxQueuedJobs, so users keep room
    }

    [Fact]
    public async Task DeleteBenchmark_WhileHangfireStrategyEnqueues_StopsTheEnqueueLoopPromptly()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var jobs = factory.Services.GetRequiredService<IJobStore>();
        var response = await client.PostAsync("/benchmarks", ApiClient.Json(
            """{"image":{"shape":[8,8]},"kernel":{"shape":[1,1],"count":1},"iterations":20000,"repetitions":1,"warmup":0,"strategies":["hangfire"]}"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string id = (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
        var clock = Stopwatch.StartNew();
        while ((await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/benchmarks/{id}")).GetProperty("status").GetString() == "queued"
               && clock.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(20);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/benchmarks/{id}")).StatusCode);
        clock.Restart();
        while (await jobs.CountActiveAsync() > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        Assert.Equal(0, await jobs.CountActiveAsync());
    }

    [Theory]
    [InlineData("fft")]
    [InlineData("auto")]
    public async Task SubmitConvolution_MillionWideKernelOnWideImage_Returns422NamingMaxFftBytes(string method)
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            $$$"""{"image":{"generate":{"shape":[2000,12500]}},"kernel":{"generate":{"shape":[1,1000000]}},"mode":"same","method":"{{{method}}}"}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "MaxFftBytes");
    }

    [Fact]
    public async Task SubmitConvolution_AutoWhereFftIsOverMaxFftBytes_RunsDirectAndSaysWhy()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxFftBytes", "2048");
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(
            """{"image":{"generate":{"shape":[300,300]}},"kernel":{"generate":{"shape":[41,41]}},"mode":"same","method":"auto"}""");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal("direct", job.GetProperty("method").GetString());
        Assert.Contains("MaxFftBytes", job.GetProperty("methodReason").GetString());
    }

    [Fact]
    public async Task SubmitConvolution_RefusedForItsOutput_LeavesItsInlineImageOutOfTheStore()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxOutputPixels", "10");
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions", ApiClient.Json(
            """{"image":{"data":[[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16.5]]},"kernel":{"data":[[1]]}}"""));
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "MaxOutputPixels");
        var image = Array2D.FromArray(new double[,] { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10, 11, 12 }, { 13, 14, 15, 16.5 } });
        Assert.Null(await factory.Services.GetRequiredService<IArrayStore>().TryGetInfoAsync(ArrayId.Compute(image).Id));
    }

    [Fact]
    public async Task SubmitConvolution_DistinctInputsQueuedBehindALongJob_Returns429BeforePinningTheWholeStore()
    {
        // A 4 MiB store, half of it pinnable: the long job pins 750 KB, each queued 200×200 image 320 KB more (every job is slow: none finishes and unpins meanwhile).
        using var factory = new ConvServiceFactory().With("ConvService:Workers", "1")
            .With("ConvService:Limits:ArrayStoreBytes", "4194304").With("ConvService:Limits:MaxPinnedFraction", "0.5");
        using var client = factory.CreateClient();
        var ids = new List<string>();
        var longJob = await client.PostAsync("/convolutions", ApiClient.Json(
            """{"image":{"generate":{"shape":[300,300],"seed":7}},"kernel":{"generate":{"shape":[61,61],"fill":"normal"}},"method":"naive"}"""));
        Assert.Equal(HttpStatusCode.Accepted, longJob.StatusCode);
        ids.Add((await longJob.ReadJsonAsync()).GetProperty("id").GetString()!);
        HttpResponseMessage? refused = null;
        for (int seed = 100; seed < 110 && refused is null; seed++)
        {
            var response = await client.PostAsync("/convolutions", ApiClient.Json(
                $$$"""{"image":{"generate":{"shape":[200,200],"fill":"normal","seed":{{{seed}}}}},"kernel":{"generate":{"shape":[61,61],"fill":"normal"}},"method":"naive"}"""));
            if (response.StatusCode == HttpStatusCode.Accepted) ids.Add((await response.ReadJsonAsync()).GetProperty("id").GetString()!);
            else refused = response;
        }
        var store = (IPinnedBytes)factory.Services.GetRequiredService<IArrayStore>();
        Assert.True(refused is not null, $"pinned {store.PinnedBytes}, jobs {string.Join(" | ", await Task.WhenAll(ids.Select(async id => (await client.GetStringAsync($"/convolutions/{id}"))[..60])))}");
        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "MaxPinnedFraction");
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.InRange(ids.Count, 2, 6);
        foreach (var id in ids) await client.DeleteAsync($"/convolutions/{id}");
    }

    [Fact]
    public async Task SubmitConvolution_JsonOfManyOneValueRows_Returns413WhileParsing()
    {
        using var factory = new ConvServiceFactory()
            .With("ConvService:Limits:MaxImagePixels", "1000").With("ConvService:Limits:MaxKernelPixels", "1000");
        using var client = factory.CreateClient();
        string rows = string.Join(",", Enumerable.Repeat("[0]", 100_000));
        var response = await client.PostAsync("/convolutions", ApiClient.Json($$$"""{"image":{"data":[{{{rows}}}]},"kernel":{"data":[[1]]}}"""));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "inline 'data'");
    }

    [Fact]
    public async Task UploadPng_TinyOneBitPngsThatDecodeLarge_Returns429OnceTheClientsBudgetIsSpent()
    {
        // Each 200×200 one-bit PNG is ~60 bytes and decodes to 320,000 bytes: three fit a 1,000,000-byte budget.
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxUploadBytesPerClientPerMinute", "1000000");
        using var client = factory.CreateClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (int i = 0; i < 4; i++)
        {
            var raw = new byte[200 * (1 + 25)]; // per row: filter byte 0, then 25 bytes of 8 pixels
            raw[1] = (byte)i; // distinct contents, so each is a new array
            last = await client.PostAsync("/arrays", ApiClient.Bytes(BadInputCorpusTests.PngFile(200, 200, 0, 1, BadInputCorpusTests.Zlib(raw)), "image/png"));
            statuses.Add(last.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created], statuses[..3]);
        await last!.AssertProblemAsync(HttpStatusCode.TooManyRequests, "MaxUploadBytesPerClientPerMinute");
        Assert.NotNull(last!.Headers.RetryAfter);
    }

    [Fact]
    public async Task UploadPng_ZlibStreamAsksForPresetDictionary_Returns400()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        // zlib header 78 BB: FDICT set (and a valid check), then a dictionary id; PNG forbids preset dictionaries.
        byte[] idat = [0x78, 0xBB, 0x00, 0x00, 0x00, 0x01, 0x63, 0x00, 0x00];
        var response = await client.PostAsync("/arrays", ApiClient.Bytes(BadInputCorpusTests.PngFile(2, 2, 0, 8, idat), "image/png"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "PNG");
    }

    [Theory]
    [InlineData("image/png")]
    [InlineData("application/x-npy")]
    [InlineData("application/fits")]
    [InlineData("application/fits+gzip")]
    public async Task UploadArray_MutatedFiles_NeverAnswer5xx(string format)
    {
        // A brief fuzz: flipped bytes, overwritten runs and truncations of one valid file, seeded so a failure repeats.
        var array = Array2D.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9.5 } });
        using var npy = new MemoryStream();
        ConvService.Core.Npy.NpyCodec.Write(npy, array);
        byte[] valid = format switch
        {
            "image/png" => ConvService.Core.Imaging.PngCodec.EncodeGray16(array),
            "application/x-npy" => npy.ToArray(),
            "application/fits" => ConvService.Core.Fits.FitsWriter.Write(array),
            _ => Gzip(ConvService.Core.Fits.FitsWriter.Write(array)),
        };
        string contentType = format == "application/fits+gzip" ? "application/fits" : format;
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var random = new Random(12);
        for (int i = 0; i < 150; i++)
        {
            var bytes = (byte[])valid.Clone();
            switch (i % 3)
            {
                case 0: bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8)); break;
                case 1: random.NextBytes(bytes.AsSpan(random.Next(bytes.Length - 8), 8)); break;
                default: bytes = bytes[..random.Next(bytes.Length)]; break;
            }
            var response = await client.PostAsync("/arrays", ApiClient.Bytes(bytes, contentType));
            Assert.True((int)response.StatusCode < 500, $"{format} mutation {i} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        static byte[] Gzip(byte[] raw)
        {
            using var output = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(raw);
            return output.ToArray();
        }
    }

    [Fact]
    public async Task Metrics_UnknownHttpMethods_AddNoSeries()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        for (int i = 0; i < 5; i++)
            await client.SendAsync(new HttpRequestMessage(new HttpMethod($"RANDOM{i}"), "/health"));
        string metrics = await client.GetStringAsync("/metrics");
        Assert.DoesNotContain("RANDOM", metrics);
        Assert.Contains("method=\"OTHER\"", metrics);
    }

    [Fact]
    public async Task UploadArray_BodyShorterThanItsContentLength_Returns400WithoutWaitingForTheRest()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var content = new ShortContent(declared: 100_000_000, actual: 1000);
        var response = await client.PostAsync("/arrays", content);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("image/png")]
    [InlineData("application/x-npy")]
    [InlineData("application/fits")]
    public async Task UploadArray_HugeHeaderThenAStalledBody_Returns413BeforeTheBodyArrives(string format)
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        byte[] header = format == "image/png" ? BadInputCorpusTests.PngFile(100_000, 100_000, 0, 8, [])[..33]
            : format == "application/fits" ? FitsHeaderBlock("SIMPLE  =                    T", "BITPIX  =                  -64", "NAXIS   =                    2",
                "NAXIS1  =               100000", "NAXIS2  =               100000", "END")
            : System.Text.Encoding.ASCII.GetBytes("\u0093NUMPY\u0001\u0000v\u0000{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }".PadRight(128 + 10 - 1) + "\n");
        if (format == "application/x-npy") header[0] = 0x93;
        // 64 KiB of header and padding, then the client stalls with 100 MB still to send, and gives up after 2 s. The
        // test host hands the response over only once the client has stopped sending, so the proof is the status: a
        // server that waited for the body would see it end short and answer 400; the header check answers 413.
        // (scripts/hostile-probes.sh times the same probe against Kestrel.)
        using var stall = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var response = await client.PostAsync("/arrays", new StalledContent([.. header, .. new byte[65536 - header.Length]], 100_000_000, format, stall.Token));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    /// <summary>One FITS header block: the cards padded to 80 characters, the block to 2880 bytes.</summary>
    private static byte[] FitsHeaderBlock(params string[] cards) =>
        System.Text.Encoding.ASCII.GetBytes(string.Concat(cards.Select(c => c.PadRight(80))).PadRight(2880));

    /// <summary>A body that sends its first bytes, then nothing until cancelled (a slow or stalled client).</summary>
    private sealed class StalledContent(byte[] first, long declared, string contentType, CancellationToken stall) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            try { await Task.Delay(Timeout.Infinite, stall); } catch (OperationCanceledException) { }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = declared;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            return true;
        }
    }

    /// <summary>A body that declares more bytes than it sends (a client that stops mid-upload).</summary>
    private sealed class ShortContent(long declared, int actual) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(new byte[actual]).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = declared;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-npy");
            return true;
        }
    }
}
