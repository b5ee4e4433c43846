using System.Net;
using ConvService.Api.Tests.Security;

namespace ConvService.Api.Tests;

/// <summary>The web UI's files as HTTP sees them: served at /, open to GETs with API keys configured, usable without JavaScript.</summary>
public sealed class WebUiTests(KeyedHost host) : IClassFixture<KeyedHost>
{
    [Fact]
    public async Task GetRoot_WithApiKeysAndNoKey_ServesLandingPage()
    {
        using var client = host.Factory.CreateClient();
        var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<h1>ConvService</h1>", html);
        Assert.Contains("href=\"/swagger\"", html);
        Assert.Contains("href=\"/hangfire\"", html);
    }

    [Theory]
    [InlineData("/convolutions/%2e%2e")]
    [InlineData("/arrays/%2e%2e")]
    [InlineData("/benchmarks/%2e%2e")]
    public async Task GetById_DotDotId_IsTheLandingPageNotAHandler(string url)
    {
        // The server removes the dot segment, so the request is GET /: before the web UI that was a 404, now it is the
        // landing page. No handler ever sees ".." as an id; /convolutions/%2e%2e/%2e%2e/appsettings.json stays a 404.
        using var client = host.Factory.CreateClient();
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>ConvService</h1>", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/benchmarks.html", "text/html")]
    [InlineData("/jobs.html", "text/html")]
    [InlineData("/css/site.css", "text/css")]
    [InlineData("/js/api.js", "text/javascript")]
    [InlineData("/js/benchmarks.js", "text/javascript")]
    [InlineData("/js/jobs.js", "text/javascript")]
    [InlineData("/js/home.js", "text/javascript")]
    public async Task GetUiFile_WithApiKeysAndNoKey_Served(string path, string mediaType)
    {
        using var client = host.Factory.CreateClient();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/benchmarks.html", "href=\"/benchmarks\"")]
    [InlineData("/jobs.html", "href=\"/convolutions\"")]
    public async Task GetPage_WithoutJavaScript_NoscriptLinksJsonAndSwagger(string path, string jsonLink)
    {
        using var client = host.Factory.CreateClient();
        string html = await client.GetStringAsync(path);
        int start = html.IndexOf("<noscript>", StringComparison.Ordinal);
        int end = html.IndexOf("</noscript>", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{path} has no <noscript> block");
        string noscript = html[start..end];
        Assert.Contains(jsonLink, noscript);
        Assert.Contains("href=\"/swagger\"", noscript);
    }

    [Fact]
    public async Task GetPages_Always_LoadNothingFromOtherOrigins()
    {
        using var client = host.Factory.CreateClient();
        foreach (var path in new[] { "/", "/benchmarks.html", "/jobs.html", "/css/site.css" })
        {
            string text = await client.GetStringAsync(path);
            Assert.DoesNotContain("http://", text);
            Assert.DoesNotContain("https://", text);
            Assert.DoesNotContain("//cdn", text);
        }
    }
}
