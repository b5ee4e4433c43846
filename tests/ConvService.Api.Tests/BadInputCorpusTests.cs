using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Npy;

namespace ConvService.Api.Tests;

/// <summary>
/// A hostile and careless client's corpus thrown at every endpoint: each case must be refused with a 4xx
/// application/problem+json whose detail says what is wrong, within a few seconds, without a stack trace or a .NET
/// type name. Cases are named, so a failure says which input broke the contract.
/// </summary>
public sealed class BadInputCorpusTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    /// <summary>Every case gets this long; a refusal that takes longer is a hang as far as a client is concerned.</summary>
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(10);

    private const string Small = """{"image": {"data": [[1, 2], [3, 4]]}, "kernel": {"data": [[1]]}""";
    private const string Zeros32 = "00000000000000000000000000000000";
    private static readonly string Zeros64 = new('0', 64);

    /// <summary>One request: method, url, optional body and content type, the status it must get (null: any 4xx), and a detail fragment.</summary>
    private sealed record Case(HttpMethod Method, string Url, byte[]? Body = null, string? ContentType = null, int? Status = null, string? Detail = null, string? Accept = null);

    private static readonly Dictionary<string, Case> Cases = BuildCases();

    /// <summary>The case names, for xunit (one test per case).</summary>
    public static TheoryData<string> CaseNames
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Cases.Keys) data.Add(name);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Corpus_IsRefusedWithA4xxProblemThatSaysWhy(string name)
    {
        var c = Cases[name];
        using var client = factory.CreateClient();
        using var cts = new CancellationTokenSource(PerRequest);
        using var request = new HttpRequestMessage(c.Method, c.Url);
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            if (c.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        }
        if (c.Accept is not null) request.Headers.TryAddWithoutValidation("Accept", c.Accept);
        var response = await client.SendAsync(request, cts.Token);
        string body = await response.Content.ReadAsStringAsync(cts.Token);
        int status = (int)response.StatusCode;

        if (c.Status is { } expected) Assert.True(expected == status, $"{name}: expected {expected} but got {status}: {body}");
        Assert.True(status is >= 400 and < 500, $"{name}: expected a 4xx but got {status}: {body}");
        AssertUsefulProblem(name, response, body, c.Detail);
    }

    /// <summary>The contract every refusal shares.</summary>
    private static void AssertUsefulProblem(string name, HttpResponseMessage response, string body, string? detailFragment)
    {
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{name}: content type {response.Content.Headers.ContentType} is not application/problem+json: {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        string detail = problem.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        Assert.True(detail.Trim().Length >= 20, $"{name}: the detail '{detail}' does not say what is wrong");
        if (detailFragment is not null)
            Assert.True(detail.Contains(detailFragment, StringComparison.OrdinalIgnoreCase), $"{name}: detail lacks '{detailFragment}': {detail}");
        // Users fix JSON, not CLR types: a detail naming System.Double or our record types is noise to them.
        Assert.False(detail.Contains("System.", StringComparison.Ordinal) || detail.Contains("ConvService.", StringComparison.Ordinal)
            || detail.Contains("Nullable<", StringComparison.Ordinal) || detail.Contains("Failed to bind", StringComparison.Ordinal),
            $"{name}: detail names .NET types: {detail}");
        foreach (var leak in new[] { "   at ", ".cs:line", "StackTrace", "Exception:" })
            Assert.False(body.Contains(leak, StringComparison.Ordinal), $"{name}: body leaks '{leak}': {body}");
    }

    [Theory]
    [InlineData("/convolutions", 1000)] // declares more than it sends
    [InlineData("/convolutions", 5)]    // declares less than it sends
    [InlineData("/arrays", 1000)]
    [InlineData("/arrays", 5)]
    public async Task LyingContentLength_NeverHangsOrFails500(string url, long declared)
    {
        // TestServer does not police Content-Length as Kestrel does; the service must not trust it either way.
        byte[] body = url == "/arrays" ? NpyCodec.Write(Array2D.FromArray(new double[,] { { 1, 2 } })) : Encoding.UTF8.GetBytes(Small + "}");
        using var client = factory.CreateClient();
        using var cts = new CancellationTokenSource(PerRequest);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(url == "/arrays" ? "application/x-npy" : "application/json");
        content.Headers.ContentLength = declared;
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(url, content, cts.Token);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException && !cts.IsCancellationRequested)
        {
            return; // the client itself refused to send a lying request: nothing reached the service
        }
        string text = await response.Content.ReadAsStringAsync(cts.Token);
        Assert.True((int)response.StatusCode < 500, $"Content-Length {declared} for {body.Length} bytes gave {(int)response.StatusCode}: {text}");
        if ((int)response.StatusCode >= 400) AssertUsefulProblem($"lying length {declared}", response, text, null);
    }

    [Theory]
    [InlineData("""{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": null}""")]
    [InlineData("""{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": null}""")]
    [InlineData("""{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "threads": null, "fillValue": null, "method": null, "boundary": null}""")]
    public async Task NullForAnOptionalField_MeansItsDefault(string body)
    {
        // null and absent are the same for optional fields (README's defaults); it must never reach a converter as a value.
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(body);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("request").GetProperty("stride")[0].GetInt32());
    }

    private static Dictionary<string, Case> BuildCases()
    {
        var cases = new Dictionary<string, Case>();
        void Add(string name, Case c) => cases.Add(name, c);
        Case PostJson(string url, string json, int? status = 400, string? detail = null, string contentType = "application/json") =>
            new(HttpMethod.Post, url, Encoding.UTF8.GetBytes(json), contentType, status, detail);

        // ---- JSON shape: every JSON endpoint ----
        var jsonEndpoints = new[] { "/convolutions", "/arrays", "/benchmarks" };
        foreach (var url in jsonEndpoints)
        {
            string e = url.Trim('/');
            Add($"{e}: empty body", PostJson(url, "", detail: "empty"));
            Add($"{e}: whitespace only", PostJson(url, " \r\n\t ", detail: "empty"));
            Add($"{e}: BOM only", new(HttpMethod.Post, url, [0xEF, 0xBB, 0xBF], "application/json", 400, "empty"));
            Add($"{e}: BOM then garbage", new(HttpMethod.Post, url, [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'x'], "application/json", 400));
            Add($"{e}: not json", PostJson(url, "hello"));
            Add($"{e}: truncated", PostJson(url, """{"image": {"data": [[1, 2"""));
            Add($"{e}: top-level array", PostJson(url, "[]", detail: "object"));
            Add($"{e}: top-level string", PostJson(url, "\"x\"", detail: "object"));
            Add($"{e}: top-level number", PostJson(url, "42", detail: "object"));
            Add($"{e}: top-level true", PostJson(url, "true", detail: "object"));
            Add($"{e}: top-level null", PostJson(url, "null", detail: "null"));
            Add($"{e}: two documents", PostJson(url, "{} {}"));
            Add($"{e}: trailing comma", PostJson(url, """{"mode": "full",}"""));
            Add($"{e}: comment", PostJson(url, """{/* hi */}"""));
            Add($"{e}: single quotes", PostJson(url, "{'mode': 'full'}"));
            Add($"{e}: NaN literal", PostJson(url, """{"fillValue": NaN}"""));
            Add($"{e}: deep nesting", PostJson(url, "{\"x\": " + new string('[', 200) + new string(']', 200) + "}"));
            Add($"{e}: deep nesting in data", PostJson(url, """{"data": """ + new string('[', 100) + "1" + new string(']', 100) + "}"));
            Add($"{e}: unknown property", PostJson(url, """{"zzz": 1}""", detail: "zzz"));
            Add($"{e}: very long property", PostJson(url, "{\"" + new string('k', 100_000) + "\": 1}"));
            Add($"{e}: invalid utf-8", new(HttpMethod.Post, url, [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], "application/json", 400));
            Add($"{e}: utf-16 charset", new(HttpMethod.Post, url, Encoding.Unicode.GetBytes("{}"), "application/json; charset=utf-16", 415, "UTF-8"));
            Add($"{e}: latin1 charset", new(HttpMethod.Post, url, Encoding.Latin1.GetBytes("{}"), "application/json; charset=iso-8859-1", 415, "UTF-8"));
            Add($"{e}: text/plain", PostJson(url, "{}", status: 415, contentType: "text/plain"));
            Add($"{e}: xml", PostJson(url, "<a/>", status: 415, contentType: "application/xml"));
            Add($"{e}: form", PostJson(url, "mode=full", status: 415, contentType: "application/x-www-form-urlencoded"));
            Add($"{e}: multipart", PostJson(url, "--b--", status: 415, contentType: "multipart/form-data; boundary=b"));
            Add($"{e}: no content type", new(HttpMethod.Post, url, Encoding.UTF8.GetBytes("{}"), null, 415));
            Add($"{e}: no body at all", new(HttpMethod.Post, url, null, null, 415));
            Add($"{e}: garbage content type", PostJson(url, "{}", status: null, contentType: "???"));
        }

        // ---- POST /convolutions: every field with wrong types, nulls, junk ----
        string[] convolutionBodies =
        [
            """{"image": null, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1]]}, "kernel": null}""",
            """{"image": {}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": null}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [null]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1], null]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1, null]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1, "2"]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1, true]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1, {}]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1e400]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[-1e400]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1, 2], [3]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": []}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[], []]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [1, 2]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[[1]]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": "[[1]]"}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": {"0": [1]}}, "kernel": {"data": [[1]]}}""",
            """{"image": [[1]], "kernel": {"data": [[1]]}}""",
            """{"image": "abc", "kernel": {"data": [[1]]}}""",
            """{"image": 5, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1]], "data": [[2]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1]]}, "image": {"data": [[1]]}, "kernel": {"data": [[1]]}}""",
            """{"image": {"arrayId": null, "data": null}, "kernel": {"data": [[1]]}}""",
            """{"image": {"arrayId": 5}, "kernel": {"data": [[1]]}}""",
            """{"image": {"arrayId": ""}, "kernel": {"data": [[1]]}}""",
            """{"image": {"arrayId": "ABCDEF"}, "kernel": {"data": [[1]]}}""",
            "{\"image\": {\"arrayId\": \"" + new string('A', 64) + "\"}, \"kernel\": {\"data\": [[1]]}}",
            "{\"image\": {\"arrayId\": \"" + new string('a', 100_000) + "\"}, \"kernel\": {\"data\": [[1]]}}",
            """{"image": {"arrayId": "..\/..\/etc\/passwd"}, "kernel": {"data": [[1]]}}""",
            """{"image": {"arrayId": "\u0000"}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": null}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": null}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [null, 2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, -2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2, 2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2.5, 2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": ["2", "2"]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [1e400, 2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [99999999999, 2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": 5}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "seed": null}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "seed": 1.5}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "seed": "1"}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "fill": 3}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "fill": "NORMAL"}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "fill": "nörmal"}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"generate": {"shape": [2, 2], "extra": 1}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1]], "generate": {"shape": [2, 2]}}, "kernel": {"data": [[1]]}}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": 1}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": ""}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": "FULL"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": "fuⅼl"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": "full\u0000"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "mode": ["full"]}""",
            "{\"image\": {\"data\": [[1]]}, \"kernel\": {\"data\": [[1]]}, \"mode\": \"" + new string('x', 100_000) + "\"}",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "boundary": "Wrap"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "boundary": false}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "method": "ＦＦＴ"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "method": {}}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "fillValue": "0"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "fillValue": 1e400}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "fillValue": []}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "fillValue": "NaN"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 0}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": -1}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": -0}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 2.5}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 1e400}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": 99999999999}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": "2"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": true}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": {}}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": []}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [2]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [2, 2, 2]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [null, 2]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [2, null]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [[2], 2]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [0, 0]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "stride": [2147483648, 1]}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "threads": -1}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "threads": 100000}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "threads": 1.5}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "threads": "2"}""",
            """{"image": {"data": [[1]]}, "kernel": {"data": [[1]]}, "Image": {"data": [[1]]}}""",
        ];
        for (int i = 0; i < convolutionBodies.Length; i++)
            Add($"convolutions: body {i:D3} {Label(convolutionBodies[i])}", PostJson("/convolutions", convolutionBodies[i], status: null));

        // ---- POST /convolutions?wait= ----
        foreach (var wait in new[] { "-1", "1e9", "abc", "NaN", "Infinity", "-Infinity", "60.5", "0x10", "1,5", "%00", "1;2", "9999999999999999999999" })
            Add($"convolutions: wait={wait}", new(HttpMethod.Post, "/convolutions?wait=" + wait, Encoding.UTF8.GetBytes(Small + "}"), "application/json", 400, "wait"));
        Add("benchmarks: wait=abc", new(HttpMethod.Post, "/benchmarks?wait=abc", Encoding.UTF8.GetBytes("""{"strategies": []}"""), "application/json", 400, "wait"));
        Add("benchmarks: GET wait=-1", new(HttpMethod.Get, $"/benchmarks/{Zeros32}?wait=-1", Status: 400, Detail: "wait"));
        Add("benchmarks: GET wait=NaN", new(HttpMethod.Get, $"/benchmarks/{Zeros32}?wait=NaN", Status: 400, Detail: "wait"));

        // ---- POST /arrays JSON ----
        string[] arrayBodies =
        [
            "{}",
            """{"data": null}""",
            """{"data": [[1, null]]}""",
            """{"data": [null]}""",
            """{"data": [[1], null]}""",
            """{"data": [[1, 2], [3]]}""",
            """{"data": [1, 2]}""",
            """{"data": [[[1]]]}""",
            """{"data": [[]]}""",
            """{"data": []}""",
            """{"data": [["1"]]}""",
            """{"data": [[1e400]]}""",
            """{"data": "abc"}""",
            """{"data": [[1]], "data": [[2]]}""",
            """{"data": [[1]], "shape": [1, 1]}""",
            """{"DATA": [[1]], "data": [[1]]}""",
        ];
        for (int i = 0; i < arrayBodies.Length; i++)
            Add($"arrays: body {i:D3} {Label(arrayBodies[i])}", PostJson("/arrays", arrayBodies[i], status: null));

        // ---- POST /benchmarks ----
        string[] benchmarkBodies =
        [
            """{"strategies": [null]}""",
            """{"strategies": ["serial", null]}""",
            """{"strategies": []}""",
            """{"strategies": ["serial", "serial"]}""",
            """{"strategies": ["dask"]}""",
            """{"strategies": "serial"}""",
            """{"strategies": [1]}""",
            """{"strategies": ["SERIAL"]}""",
            """{"iterations": 0}""",
            """{"iterations": -1}""",
            """{"iterations": "5"}""",
            """{"iterations": 1e400}""",
            """{"iterations": 2147483648}""",
            """{"iterations": 1.5}""",
            """{"repetitions": 0}""",
            """{"repetitions": 1000}""",
            """{"warmup": -1}""",
            """{"warmup": 11}""",
            """{"image": null, "kernel": null, "stride": 0}""",
            """{"image": {"shape": [8, 8]}, "stride": 0}""",
            """{"image": {"shape": [8, 8]}, "stride": [1, -1]}""",
            """{"image": {"shape": [8, 8]}, "stride": 1.5}""",
            """{"image": {"shape": [8, 8]}, "stride": "5"}""",
            """{"image": {"shape": [8, 8]}, "mode": "bogus"}""",
            """{"image": {"shape": [8, 8]}, "boundary": "bogus"}""",
            """{"image": {"shape": [8, 8]}, "method": "bogus"}""",
            """{"image": {"shape": [8, 8]}, "fillValue": "1"}""",
            """{"image": {"shape": [8, 8], "fill": "ones"}}""",
            """{"image": {"shape": [0, 8]}}""",
            """{"image": {"shape": [8]}}""",
            """{"image": {"shape": [null, 8]}}""",
            """{"image": {"shape": "8x8"}}""",
            """{"image": {"shape": [100000, 100000]}}""",
            """{"image": {"arrayId": "nope"}}""",
            "{\"image\": {\"arrayId\": \"" + new string('0', 64) + "\"}}",
            "{\"image\": {\"arrayId\": \"" + new string('0', 64) + "\", \"shape\": [8, 8]}}",
            """{"image": {"shape": [8, 8]}, "kernel": {"count": 0}}""",
            """{"image": {"shape": [8, 8]}, "kernel": {"count": 100000}}""",
            """{"image": {"shape": [8, 8]}, "kernel": {"shape": [0, 0]}}""",
            """{"image": {"shape": [8, 8]}, "kernel": {"shape": [4, 4], "fill": "bogus"}}""",
            """{"image": {"shape": [8, 8]}, "kernel": {"arrayId": "x"}}""",
            // Over the compute budget with large generated filters: must be refused from the plan, not after generating 8 GB of them.
            """{"kernel": {"shape": [1000, 1000], "count": 1024}}""",
            """{"image": {"shape": [8, 8]}, "kernel": {"shape": [4, 4], "count": 1024}, "iterations": 100000, "repetitions": 100, "warmup": 10}""",
            """{"image": {"shape": [8, 8]}, "extra": true}""",
        ];
        for (int i = 0; i < benchmarkBodies.Length; i++)
            Add($"benchmarks: body {i:D3} {Label(benchmarkBodies[i])}", PostJson("/benchmarks", benchmarkBodies[i], status: null));

        // ---- POST /arrays .npy ----
        var validNpy = NpyCodec.Write(Array2D.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }));
        Case Npy(byte[] bytes, int? status = null) => new(HttpMethod.Post, "/arrays", bytes, "application/x-npy", status);
        Add("npy: empty", Npy([], 400));
        Add("npy: magic only", Npy(validNpy[..6], 400));
        Add("npy: header truncated", Npy(validNpy[..20], 400));
        Add("npy: data truncated", Npy(validNpy[..^3], 400));
        Add("npy: trailing bytes", Npy([.. validNpy, 0, 0, 0], 400));
        Add("npy: not npy", Npy(Encoding.ASCII.GetBytes("hello, world"), 400));
        Add("npy: json sent as npy", Npy(Encoding.ASCII.GetBytes("""{"data": [[1]]}"""), 400));
        Add("npy: huge shape", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", []), 413));
        Add("npy: max shape", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 9223372036854775807), }", [])));
        Add("npy: negative dim", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }", new byte[16]), 400));
        Add("npy: zero dim", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }", [])));
        Add("npy: 1-D", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", new byte[16]), 400));
        Add("npy: 3-D", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2), }", new byte[16]), 400));
        Add("npy: 0-D", Npy(NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", new byte[8]), 400));
        Add("npy: bad dtype", Npy(NpyFile("{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }", new byte[16]), 400));
        Add("npy: object dtype", Npy(NpyFile("{'descr': '|O', 'fortran_order': False, 'shape': (1, 1), }", new byte[8]), 400));
        Add("npy: big-endian", Npy(NpyFile("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", new byte[8]), 400));
        Add("npy: structured dtype", Npy(NpyFile("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1, 1), }", new byte[8]), 400));
        Add("npy: fortran with wrong length", Npy(NpyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", new byte[40]), 400));
        Add("npy: fortran not a bool", Npy(NpyFile("{'descr': '<f8', 'fortran_order': 1, 'shape': (1, 1), }", new byte[8]), 400));
        Add("npy: missing key", Npy(NpyFile("{'descr': '<f8', 'shape': (1, 1), }", new byte[8]), 400));
        Add("npy: eval trick", Npy(NpyFile("__import__('os').system('true')", new byte[8]), 400));
        Add("npy: duplicate key", Npy(NpyFile("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", new byte[8]), 400));
        Add("npy: version 9", Npy([.. validNpy[..6], 9, 0, .. validNpy[8..]], 400));
        Add("npy: v2 header length beyond body", Npy(NpyRaw(2, uint.MaxValue, "{}"), 400));
        Add("npy: v3 header length beyond body", Npy(NpyRaw(3, 60_000, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }"), 400));
        Add("npy: v1 header length beyond body", Npy(NpyRaw(1, 65_535, "{'descr': '<f8'"), 400));
        Add("npy: v3 invalid utf-8", Npy(NpyRaw(3, 4, "\u00ff\u00fe\u00fd\u00fc"), 400));
        Add("npy: application/npy alias, garbage", new(HttpMethod.Post, "/arrays", [1, 2, 3], "application/npy", 400));

        // ---- POST /arrays PNG ----
        var png = ConvService.Core.Imaging.PngCodec.EncodeGray16(Array2D.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }));
        Case Png(byte[] bytes, int? status = null) => new(HttpMethod.Post, "/arrays", bytes, "image/png", status);
        Add("png: empty", Png([], 400));
        Add("png: signature only", Png(png[..8], 400));
        Add("png: truncated IHDR", Png(png[..20], 400));
        Add("png: truncated before IEND", Png(png[..^12], 400));
        Add("png: truncated mid IDAT", Png(png[..(png.Length - 20)], 400));
        Add("png: not a png", Png(Encoding.ASCII.GetBytes("GIF89a........"), 400));
        Add("png: huge IHDR", Png(PngFile(100_000, 100_000, 0, 8, Zlib(new byte[16])), 413));
        Add("png: zero width", Png(PngFile(0, 5, 0, 8, Zlib(new byte[16])), 400));
        Add("png: bad colour type", Png(PngFile(2, 2, 5, 8, Zlib(new byte[16])), 400));
        Add("png: decompression bomb", Png(PngFile(4, 4, 0, 8, Zlib(new byte[16 << 20])), 400));
        Add("png: short image data", Png(PngFile(64, 64, 0, 8, Zlib(new byte[10])), 400));
        Add("png: zlib preset dictionary", Png(PngFile(2, 2, 0, 8, [0x78, 0xBB, 0x00, 0x00, 0x00, 0x01, 0x63, 0x00, 0x00]), 400)); // FDICT: a ZLibException
        Add("png: corrupt zlib", Png(PngFile(2, 2, 0, 8, [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF]), 400));
        Add("png: bad row filter", Png(PngFile(2, 2, 0, 8, Zlib([9, 0, 0, 9, 0, 0])), 400));
        var badCrc = (byte[])png.Clone();
        badCrc[29] ^= 0xFF; // IHDR's CRC
        Add("png: bad CRC", Png(badCrc, null));

        // ---- Other content types on /arrays ----
        Add("arrays: octet-stream of npy", new(HttpMethod.Post, "/arrays", validNpy, "application/octet-stream", 415, "application/x-npy"));
        Add("arrays: image/jpeg", new(HttpMethod.Post, "/arrays", [0xFF, 0xD8, 0xFF], "image/jpeg", 415));
        Add("arrays: text/csv", new(HttpMethod.Post, "/arrays", Encoding.ASCII.GetBytes("1,2\n3,4"), "text/csv", 415));

        // ---- Ids: every {id} route ----
        string[] badIds =
        [
            Zeros32, Zeros64, "ABCDEF0123456789ABCDEF0123456789", new string('A', 64), "not-an-id", new string('a', 5000),
            "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%E2%80%AE", "%25ZZ", "%20", "a%3Bb", "%FF%FE", "0x1", "null", "-1", "1e400",
        ];
        string[] idRoutes = ["GET /convolutions/{0}", "DELETE /convolutions/{0}", "GET /convolutions/{0}/result", "GET /arrays/{0}", "DELETE /arrays/{0}",
            "GET /benchmarks/{0}", "DELETE /benchmarks/{0}", "GET /benchmarks/{0}/chart.svg"];
        foreach (var route in idRoutes)
        {
            var parts = route.Split(' ');
            foreach (var id in badIds)
            {
                // GET /convolutions/%2e%2e is GET / once the server removes the dot segment (RFC 3986 5.2.4): no handler
                // sees "..", and / is the web UI's landing page (WebUiTests.GetById_DotDotId_IsTheLandingPageNotAHandler).
                if (id == "%2e%2e" && parts[0] == "GET" && parts[1].EndsWith("{0}", StringComparison.Ordinal)) continue;
                Add($"{route}: id {Label(id)}", new(new HttpMethod(parts[0]), string.Format(parts[1], id), Status: 404));
            }
        }
        Add("route: too deep", new(HttpMethod.Get, "/convolutions/a/b/c", Status: 404));
        Add("route: unknown", new(HttpMethod.Get, "/convolution", Status: 404));
        Add("route: traversal", new(HttpMethod.Get, "/convolutions/%2E%2E/%2E%2E/appsettings.json", Status: 404));
        Add("result: Accept text/csv", new(HttpMethod.Get, $"/convolutions/{Zeros32}/result", Status: 406, Accept: "text/csv"));
        Add("array: Accept text/csv", new(HttpMethod.Get, $"/arrays/{Zeros64}", Status: 406, Accept: "text/csv"));
        Add("array: Accept q=0 only", new(HttpMethod.Get, $"/arrays/{Zeros64}", Status: 406, Accept: "application/json;q=0"));
        Add("array: Accept garbage", new(HttpMethod.Get, $"/arrays/{Zeros64}", Status: null, Accept: ";;;,,,"));

        // ---- List queries ----
        foreach (var url in new[] { "/convolutions", "/benchmarks" })
        {
            string e = url.Trim('/');
            foreach (var q in new[] { "limit=abc", "limit=0", "limit=-1", "limit=1.5", "limit=1e3", "limit=99999999999", "limit=1001", "limit=%00",
                         "after=xyz", "after=ABCDEF0123456789ABCDEF0123456789", "after=" + new string('a', 5000), "after=..%2F", "status=bogus", "limit=1&limit=2" })
                Add($"{e}: ?{Label(q)}", new(HttpMethod.Get, $"{url}?{q}", Status: 400, Detail: q[..q.IndexOf('=')]));
        }
        foreach (var q in new[] { "status=QUEUED", "status=queued%00", "status=" })
            Add($"convolutions: ?{Label(q)}", new(HttpMethod.Get, $"/convolutions?{q}", Status: 400, Detail: "status"));

        // ---- Methods nobody maps ----
        foreach (var (method, url) in new[] { ("PUT", "/convolutions"), ("PATCH", "/convolutions"), ("PUT", $"/convolutions/{Zeros32}"),
                     ("PATCH", $"/convolutions/{Zeros32}"), ("POST", $"/convolutions/{Zeros32}"), ("PUT", "/arrays"), ("PATCH", $"/arrays/{Zeros64}"),
                     ("PUT", "/benchmarks"), ("PATCH", $"/benchmarks/{Zeros32}"), ("POST", $"/benchmarks/{Zeros32}/chart.svg"), ("DELETE", "/convolutions"), ("DELETE", "/arrays") })
            Add($"method: {method} {url}", new(new HttpMethod(method), url, Encoding.UTF8.GetBytes("{}"), "application/json", 405, method));

        return cases;
    }

    /// <summary>A short, unique-enough label for a test name.</summary>
    private static string Label(string s)
    {
        var clean = new string(s.Select(ch => ch is < ' ' or > '~' ? '?' : ch).ToArray());
        return clean.Length <= 70 ? clean : clean[..60] + $"…({s.Length})";
    }

    /// <summary>A .npy v1.0 file with this header dict (padded as numpy does) and data.</summary>
    private static byte[] NpyFile(string dict, byte[] data)
    {
        int unpadded = 10 + dict.Length + 1;
        string padded = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        return [.. NpyRaw(1, (uint)padded.Length, padded), .. data];
    }

    /// <summary>Magic, version, a declared header length (which may lie) and the header text.</summary>
    private static byte[] NpyRaw(int version, uint declaredLength, string header)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0 };
        if (version == 1) bytes.AddRange(BitConverter.GetBytes((ushort)declaredLength));
        else bytes.AddRange(BitConverter.GetBytes(declaredLength));
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        return bytes.ToArray();
    }

    internal static byte[] Zlib(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return output.ToArray();
    }

    /// <summary>A PNG with the given IHDR and one IDAT, with correct CRCs (so only the lie under test is a lie).</summary>
    internal static byte[] PngFile(uint width, uint height, byte colorType, byte bitDepth, byte[] idat)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var word = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        png.Write(word);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typeAndData));
        png.Write(word);
    }

    private static uint Crc(byte[] bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc ^ 0xFFFFFFFFu;
    }
}
