using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests.Security;

/// <summary>A remote dashboard with keys configured: the key is needed, as a header or once as ?apiKey=.</summary>
public sealed class RemoteDashboardHost : IDisposable
{
    public ConvServiceFactory Factory { get; } = new ConvServiceFactory().WithKeys().With("ConvService:DashboardAllowRemote", "true");
    public void Dispose() => Factory.Dispose();
}

public sealed class DashboardAccessTests(RemoteDashboardHost host) : IClassFixture<RemoteDashboardHost>
{
    private HttpClient Client() => host.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    [Theory]
    [InlineData("/hangfire")]
    [InlineData("/hangfire/jobs/enqueued")]
    [InlineData("/hangfire?apiKey=wrong-key-0123456789")]
    public async Task Dashboard_WithoutValidKey_Is401Problem(string url)
    {
        using var client = Client();
        var response = await client.GetAsync(url);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "X-Api-Key header");
        Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Empty(response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : []);
    }

    [Fact]
    public async Task Dashboard_WithKeyHeader_IsServed()
    {
        using var client = Client();
        var response = await client.SendAsync(Ops.Request(HttpMethod.Get, "/hangfire", Ops.KeyB));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("ConvService jobs", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Dashboard_QueryKeyOnce_SetsCookieWithoutTheKeyAndRedirectsWithoutIt()
    {
        using var client = Client();
        var first = await client.GetAsync("/hangfire/jobs/succeeded?apiKey=" + Uri.EscapeDataString(Ops.KeyA) + "&from=0");
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        string location = first.Headers.Location!.ToString();
        Assert.Equal("/hangfire/jobs/succeeded?from=0", location);
        string cookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("ConvService.Dashboard=", cookie);
        Assert.DoesNotContain(Ops.KeyA, cookie);
        Assert.Contains("path=/hangfire", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        // The browser follows the redirect with the cookie and no key anywhere.
        var page = await client.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var stats = await client.PostAsync("/hangfire/stats", new FormUrlEncodedContent([new("metrics[]", "enqueued:count")]));
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
    }

    [Fact]
    public async Task Dashboard_ForgedCookie_IsRefused()
    {
        using var client = host.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        foreach (var forged in new[] { Ops.KeyA, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not base64 !", "" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
            request.Headers.TryAddWithoutValidation("Cookie", "ConvService.Dashboard=" + forged);
            await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Api_OnTheSameHost_StillNeedsKeysForMutationsAndOwnedData()
    {
        using var client = Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/nodes")).StatusCode);
        await (await client.GetAsync("/convolutions")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await client.PostAsync("/arrays", ApiClient.Json(Ops.SmallArray))).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
