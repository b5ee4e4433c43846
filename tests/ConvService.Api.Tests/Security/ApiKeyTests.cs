using System.Net;
using ConvService.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Tests.Security;

public sealed class ApiKeyTests(KeyedHost host) : IClassFixture<KeyedHost>
{
    private const string UnknownJob = "0123456789abcdef0123456789abcdef";
    private const string UnknownArray = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public static TheoryData<string, string> MutatingRequests => new()
    {
        { "POST", "/arrays" },
        { "DELETE", "/arrays/" + UnknownArray },
        { "POST", "/convolutions" },
        { "DELETE", "/convolutions/" + UnknownJob },
        // Not mapped: the key is checked before routing answers 405, so unauthenticated callers learn nothing about routes.
        { "PUT", "/convolutions/" + UnknownJob },
        { "PATCH", "/arrays/" + UnknownArray },
    };

    [Theory]
    [MemberData(nameof(MutatingRequests))]
    public async Task MutatingRequest_WithoutKey_Is401ProblemWithChallenge(string method, string url)
    {
        using var client = host.Factory.CreateClient();
        var response = await client.SendAsync(Ops.Request(new HttpMethod(method), url, content: ApiClient.Json(Ops.SmallJob)));
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "X-Api-Key header");
        Assert.Equal("API key required", problem.GetProperty("title").GetString());
        Assert.Equal("ApiKey header=\"X-Api-Key\"", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Theory]
    [MemberData(nameof(MutatingRequests))]
    public async Task MutatingRequest_WithWrongKey_Is401AndRevealsNoKey(string method, string url)
    {
        using var client = host.Factory.CreateClient();
        // Wrong keys of every shape: another length, the right length with one character off, a configured key's prefix.
        foreach (var wrong in new[] { "nope", Ops.KeyA[..^1] + "X", Ops.KeyA[..10], Ops.KeyA + " ", Ops.KeyA.ToUpperInvariant() })
        {
            var response = await client.SendAsync(Ops.Request(new HttpMethod(method), url, wrong, ApiClient.Json(Ops.SmallJob)));
            var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "does not hold a valid API key");
            Assert.Equal("Invalid API key", problem.GetProperty("title").GetString());
            Assert.Single(response.Headers.WwwAuthenticate);
            string body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(Ops.KeyA, body);
            Assert.DoesNotContain(Ops.KeyB, body);
            Assert.DoesNotContain("test-key", body);
        }
    }

    [Fact]
    public async Task TwoKeyHeaders_AreRefused()
    {
        using var client = host.Factory.CreateClient();
        var request = Ops.Request(HttpMethod.Post, "/arrays", content: ApiClient.Json(Ops.SmallArray));
        request.Headers.TryAddWithoutValidation("X-Api-Key", new[] { Ops.KeyA, Ops.KeyB });
        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(Ops.KeyA)]
    [InlineData(Ops.KeyB)]
    public async Task EachConfiguredKey_IsAcceptedOnEveryMutatingEndpoint(string key)
    {
        using var client = host.Factory.CreateClient();

        var upload = await client.SendAsync(Ops.Request(HttpMethod.Post, "/arrays", key, ApiClient.Json("""{"data": [[5, 6], [7, 8]]}""")));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        string arrayId = (await upload.ReadJsonAsync()).GetProperty("id").GetString()!;

        var submit = await client.SendAsync(Ops.Request(HttpMethod.Post, "/convolutions?wait=30", key, ApiClient.Json(Ops.SmallJob)));
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        string jobId = (await submit.ReadJsonAsync()).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(Ops.Request(HttpMethod.Delete, "/convolutions/" + jobId, key))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(Ops.Request(HttpMethod.Delete, "/arrays/" + arrayId, key))).StatusCode);
        // Past the key check, the endpoints answer as usual: a second delete is the endpoint's 404, not a 401.
        await (await client.SendAsync(Ops.Request(HttpMethod.Delete, "/arrays/" + arrayId, key))).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Reads_OfOwnedDataNeedAKey_ProbesStayOpen()
    {
        using var client = host.Factory.CreateClient();
        var submit = await client.SendAsync(Ops.Request(HttpMethod.Post, "/convolutions?wait=30", Ops.KeyA, ApiClient.Json(Ops.SmallJob)));
        var job = await submit.ReadJsonAsync();
        string jobId = job.GetProperty("id").GetString()!;
        string resultId = job.GetProperty("result").GetProperty("arrayId").GetString()!;

        foreach (var url in new[] { "/convolutions", "/convolutions/" + jobId, $"/convolutions/{jobId}/result", "/arrays/" + resultId })
            await (await client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.Unauthorized, "X-Api-Key");
        foreach (var url in new[] { "/convolutions", "/convolutions/" + jobId, $"/convolutions/{jobId}/result", "/arrays/" + resultId })
        {
            var response = await client.SendAsync(Ops.Request(HttpMethod.Get, url, Ops.KeyA));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} with the owner's key: {(int)response.StatusCode}");
        }
        foreach (var url in new[] { "/health", "/metrics" })
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task WithoutConfiguredKeys_MutatingEndpointsAreOpen()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/arrays", ApiClient.Json(Ops.SmallArray));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("short-key")]
    [InlineData("a key with spaces inside")]
    [InlineData("")]
    public void BadKeyConfiguration_FailsStartupWithoutEchoingTheKey(string key)
    {
        using var factory = new ConvServiceFactory().With("ConvService:ApiKeys:0", key);
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("ConvService:ApiKeys:0", error.Message);
        if (key.Length > 0) Assert.DoesNotContain(key, error.Message);
    }

    [Fact]
    public void Keys_BindFromConfiguration()
    {
        var options = host.Factory.Services.GetRequiredService<IOptions<ConvServiceOptions>>().Value;
        Assert.Equal(new[] { Ops.KeyA, Ops.KeyB }, options.ApiKeys);
    }
}
