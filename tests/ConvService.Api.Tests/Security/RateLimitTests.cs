using System.Diagnostics;
using System.Net;

namespace ConvService.Api.Tests.Security;

public sealed class RateLimitTests
{
    private const int Burst = 3;

    /// <summary>A fresh host per test: buckets are per host, so tests cannot drain each other's.</summary>
    private static ConvServiceFactory Limited() => new ConvServiceFactory().WithKeys()
        .With("ConvService:RateLimits:Enabled", "true")
        .With("ConvService:RateLimits:PermitsPerSecond", "1")
        .With("ConvService:RateLimits:Burst", Burst.ToString());

    /// <summary>Sends GET /nodes (open to anonymous callers, unlike owned data) until refused; returns how many passed and the refusal.</summary>
    private static async Task<(int Passed, HttpResponseMessage Refusal, TimeSpan Elapsed)> DrainAsync(HttpClient client, string? key = null)
    {
        var clock = Stopwatch.StartNew();
        for (int passed = 0; passed < 200; passed++)
        {
            var response = await client.SendAsync(Ops.Request(HttpMethod.Get, "/nodes", key));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return (passed, response, clock.Elapsed);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Fail("200 requests at 1 a second with a burst of 3 were never refused");
        throw new UnreachableException();
    }

    [Fact]
    public async Task OverTheBudget_Is429ProblemWithRetryAfter()
    {
        using var factory = Limited();
        using var client = factory.CreateClient();
        var (passed, refusal, elapsed) = await DrainAsync(client);
        // The bucket starts full (Burst) and gains one token a second.
        Assert.InRange(passed, Burst, Burst + (int)Math.Ceiling(elapsed.TotalSeconds));
        await refusal.AssertProblemAsync(HttpStatusCode.TooManyRequests, "Retry-After");
        var retryAfter = refusal.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value.TotalSeconds, 1, 2);

        // Probes and scrapes are never limited, even for a client that is out of budget.
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
        }
        string metrics = await Ops.ScrapeAsync(client);
        Assert.True(Ops.SumOf(metrics, "convservice_requests_refused_total", "status=\"429\"") >= 1, metrics);
    }

    [Fact]
    public async Task RefusedClient_RecoversAfterRetryAfter()
    {
        using var factory = Limited();
        using var client = factory.CreateClient();
        var (_, refusal, _) = await DrainAsync(client);
        await Task.Delay(refusal.Headers.RetryAfter!.Delta!.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/nodes")).StatusCode);
    }

    [Fact]
    public async Task EachValidKey_HasItsOwnBucket_AndInvalidKeysShareTheIpBucket()
    {
        using var factory = Limited();
        using var client = factory.CreateClient();
        await DrainAsync(client); // the client's IP bucket is empty now

        // An invented key buys no fresh bucket: it is counted against the IP, refused before its key is even checked.
        var invented = await client.SendAsync(Ops.Request(HttpMethod.Post, "/arrays", "invented-key-0123456789", ApiClient.Json(Ops.SmallArray)));
        await invented.AssertProblemAsync(HttpStatusCode.TooManyRequests);

        // A valid key has its own budget, also for mutations.
        var upload = await client.SendAsync(Ops.Request(HttpMethod.Post, "/arrays", Ops.KeyA, ApiClient.Json(Ops.SmallArray)));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var (passedA, _, elapsedA) = await DrainAsync(client, Ops.KeyA);
        Assert.InRange(passedA, Burst - 1, Burst - 1 + (int)Math.Ceiling(elapsedA.TotalSeconds));

        // Draining key A leaves key B untouched.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Ops.Request(HttpMethod.Get, "/convolutions", Ops.KeyB))).StatusCode);
    }

    [Fact]
    public async Task ByDefault_RateLimitingIsOff()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        // Far above any burst a default could sensibly allow per client, all from one (test) address.
        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => client.GetAsync("/convolutions?limit=1")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Theory]
    [InlineData("PermitsPerSecond", "0")]
    [InlineData("Burst", "-1")]
    public void InvalidLimits_FailStartup(string setting, string value)
    {
        using var factory = new ConvServiceFactory().With("ConvService:RateLimits:" + setting, value);
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("ConvService:RateLimits:" + setting, error.Message);
    }
}
