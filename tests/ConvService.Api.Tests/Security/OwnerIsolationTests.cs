using System.Net;
using System.Text.Json;

namespace ConvService.Api.Tests.Security;

/// <summary>With two API keys, neither can list, read, cancel or delete the other's jobs, benchmarks or arrays.</summary>
public sealed class OwnerIsolationTests(KeyedHost host) : IClassFixture<KeyedHost>
{
    private const string TinyBenchmark =
        """{"image": {"shape": [8, 8]}, "kernel": {"shape": [2, 2], "count": 1}, "iterations": 1, "repetitions": 1, "warmup": 0, "strategies": ["serial"]}""";

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? key, string? json = null)
    {
        using var client = host.Factory.CreateClient();
        return await client.SendAsync(Ops.Request(method, url, key, json is null ? null : ApiClient.Json(json)));
    }

    private async Task<JsonElement> OkJsonAsync(HttpMethod method, string url, string key, string? json = null)
    {
        var response = await SendAsync(method, url, key, json);
        Assert.True(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task Jobs_OfAnotherKey_AreNotListedReadCancelledOrDeleted()
    {
        var job = await OkJsonAsync(HttpMethod.Post, "/convolutions?wait=30", Ops.KeyA, Ops.SmallJob);
        string jobId = job.GetProperty("id").GetString()!;
        string resultId = job.GetProperty("result").GetProperty("arrayId").GetString()!;

        var listB = await OkJsonAsync(HttpMethod.Get, "/convolutions?limit=100", Ops.KeyB);
        Assert.DoesNotContain(jobId, listB.GetRawText());
        var listA = await OkJsonAsync(HttpMethod.Get, "/convolutions?limit=100", Ops.KeyA);
        Assert.Contains(jobId, listA.GetRawText());

        foreach (var (method, url) in new[]
                 {
                     (HttpMethod.Get, "/convolutions/" + jobId), (HttpMethod.Get, $"/convolutions/{jobId}/result"),
                     (HttpMethod.Delete, "/convolutions/" + jobId), (HttpMethod.Get, "/arrays/" + resultId), (HttpMethod.Delete, "/arrays/" + resultId),
                 })
            await (await SendAsync(method, url, Ops.KeyB)).AssertProblemAsync(HttpStatusCode.NotFound);

        // B's attempts changed nothing: A still reads its job and its result.
        Assert.Equal("succeeded", (await OkJsonAsync(HttpMethod.Get, "/convolutions/" + jobId, Ops.KeyA)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/arrays/" + resultId, Ops.KeyA)).StatusCode);
    }

    [Fact]
    public async Task QueuedJob_OfAnotherKey_CannotBeCancelled()
    {
        // A long naive job keeps it running (or queued) while B tries to cancel it.
        var submit = await SendAsync(HttpMethod.Post, "/convolutions", Ops.KeyA,
            """{"image": {"generate": {"shape": [300, 300]}}, "kernel": {"generate": {"shape": [31, 31]}}, "method": "naive"}""");
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        string jobId = (await submit.ReadJsonAsync()).GetProperty("id").GetString()!;
        await (await SendAsync(HttpMethod.Delete, "/convolutions/" + jobId, Ops.KeyB)).AssertProblemAsync(HttpStatusCode.NotFound);
        var status = (await OkJsonAsync(HttpMethod.Get, "/convolutions/" + jobId, Ops.KeyA)).GetProperty("status").GetString();
        Assert.NotEqual("cancelled", status);
        await SendAsync(HttpMethod.Delete, "/convolutions/" + jobId, Ops.KeyA);
    }

    [Fact]
    public async Task SameContent_UploadedByTwoKeys_IsTwoArrays()
    {
        const string content = """{"data": [[11, 12], [13, 14.5]]}""";
        // B cannot probe whether A uploaded it: the content id finds nothing for B before B uploads it itself.
        string idA = (await OkJsonAsync(HttpMethod.Post, "/arrays", Ops.KeyA, content)).GetProperty("id").GetString()!;
        await (await SendAsync(HttpMethod.Get, "/arrays/" + idA, Ops.KeyB)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await SendAsync(HttpMethod.Delete, "/arrays/" + idA, Ops.KeyB)).AssertProblemAsync(HttpStatusCode.NotFound);

        string idB = (await OkJsonAsync(HttpMethod.Post, "/arrays", Ops.KeyB, content)).GetProperty("id").GetString()!;
        Assert.Equal(idA, idB); // ids stay content ids: each key sees the same id for the same content

        // A's DELETE removes A's copy only.
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/arrays/" + idA, Ops.KeyA)).StatusCode);
        await (await SendAsync(HttpMethod.Get, "/arrays/" + idA, Ops.KeyA)).AssertProblemAsync(HttpStatusCode.NotFound);
        var rowsB = ApiClient.ToRows((await OkJsonAsync(HttpMethod.Get, "/arrays/" + idB, Ops.KeyB)).GetProperty("data"));
        Assert.Equal(14.5, rowsB[1][1]);
    }

    [Fact]
    public async Task JobByArrayId_OfAnotherKeysUpload_IsRefused()
    {
        string id = (await OkJsonAsync(HttpMethod.Post, "/arrays", Ops.KeyA, """{"data": [[21, 22], [23, 24]]}""")).GetProperty("id").GetString()!;
        var response = await SendAsync(HttpMethod.Post, "/convolutions", Ops.KeyB,
            $$$"""{"image": {"arrayId": "{{{id}}}"}, "kernel": {"data": [[1]]}}""");
        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "not in the array store");
    }

    [Fact]
    public async Task DeletingMyJob_KeepsAnotherKeysUploadOfTheSameContent()
    {
        // A's job result equals B's upload ([[1]] * [[7]] = [[7]]); A deletes its finished job, B's array stays.
        string idB = (await OkJsonAsync(HttpMethod.Post, "/arrays", Ops.KeyB, """{"data": [[7]]}""")).GetProperty("id").GetString()!;
        var job = await OkJsonAsync(HttpMethod.Post, "/convolutions?wait=30", Ops.KeyA, """{"image": {"data": [[1]]}, "kernel": {"data": [[7]]}}""");
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/convolutions/" + job.GetProperty("id").GetString(), Ops.KeyA)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/arrays/" + idB, Ops.KeyB)).StatusCode);
        // A's inline kernel [[7]] is A's own copy: deleting it leaves B's.
        await SendAsync(HttpMethod.Delete, "/arrays/" + idB, Ops.KeyA);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/arrays/" + idB, Ops.KeyB)).StatusCode);
    }

    [Fact]
    public async Task Benchmarks_OfAnotherKey_AreNotListedReadOrDeleted()
    {
        var report = await OkJsonAsync(HttpMethod.Post, "/benchmarks?wait=30", Ops.KeyA, TinyBenchmark);
        string id = report.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", report.GetProperty("status").GetString());

        Assert.DoesNotContain(id, (await OkJsonAsync(HttpMethod.Get, "/benchmarks?limit=100", Ops.KeyB)).GetRawText());
        Assert.Contains(id, (await OkJsonAsync(HttpMethod.Get, "/benchmarks?limit=100", Ops.KeyA)).GetRawText());
        foreach (var (method, url) in new[]
                 {
                     (HttpMethod.Get, "/benchmarks/" + id), (HttpMethod.Get, $"/benchmarks/{id}/chart.svg"), (HttpMethod.Delete, "/benchmarks/" + id),
                 })
            await (await SendAsync(method, url, Ops.KeyB)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/benchmarks/" + id, Ops.KeyA)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/benchmarks/" + id, Ops.KeyA)).StatusCode);
    }

    [Theory]
    [InlineData("/convolutions")]
    [InlineData("/benchmarks")]
    [InlineData("/arrays/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public async Task OwnedData_WithoutKey_Is401(string url)
    {
        var response = await SendAsync(HttpMethod.Get, url, key: null);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "belong to the API key");
    }
}

/// <summary>Without keys (single-user lab mode) there are no owners: behaviour as before keys existed.</summary>
/// <remarks>A class of its own: a host created and disposed inside a test would leave Hangfire's process-wide log provider pointing at its disposed loggers for the keyed host's later benchmarks.</remarks>
public sealed class OwnerlessModeTests
{
    [Fact]
    public async Task WithoutKeys_EveryoneSeesEverything()
    {
        // Single-user lab mode: no keys, no owners, behaviour as before.
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(Ops.SmallJob);
        string id = job.GetProperty("id").GetString()!;
        Assert.Contains(id, (await (await client.GetAsync("/convolutions")).ReadJsonAsync()).GetRawText());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/arrays/" + job.GetProperty("result").GetProperty("arrayId").GetString())).StatusCode);
        Assert.DoesNotContain("owner", (await (await client.GetAsync("/convolutions/" + id)).Content.ReadAsStringAsync()));
    }
}
