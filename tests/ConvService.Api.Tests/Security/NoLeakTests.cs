using System.Net;

namespace ConvService.Api.Tests.Security;

/// <summary>
/// No refusal carries a stack trace, a source path or a connection string: representative malformed and invalid
/// requests on every endpoint. Provoked 500s are in <see cref="UnexpectedErrorTests"/>.
/// </summary>
public sealed class NoLeakTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    public static TheoryData<string, string, string, string> MalformedRequests => new()
    {
        { "POST", "/convolutions", "application/json", "{\"image\": " },
        { "POST", "/convolutions", "application/json", "{\"image\": {\"data\": [[1, \"x\"]]}, \"kernel\": {\"data\": [[1]]}}" },
        { "POST", "/convolutions", "application/json", "{\"image\": {\"data\": [[1]]}, \"kernel\": {\"data\": [[1]]}, \"stide\": [2, 2]}" },
        { "POST", "/convolutions", "application/json", "[1, 2, 3]" },
        { "POST", "/convolutions", "application/json", "{\"image\": {\"arrayId\": \"../../etc/passwd\"}, \"kernel\": {\"data\": [[1]]}}" },
        { "POST", "/convolutions?wait=NaN", "application/json", "{}" },
        { "POST", "/convolutions", "text/plain", "hello" },
        { "POST", "/arrays", "application/x-npy", "\u0093NUMPY garbage" },
        { "POST", "/arrays", "image/png", "\u0089PNG\r\n\u001a\n truncated" },
        { "POST", "/arrays", "application/json", "{\"data\": [[1, 2], [3]]}" },
        { "GET", "/arrays/%2e%2e%2fappsettings.json", "application/json", "" },
        { "GET", "/convolutions?limit=-1", "application/json", "" },
        { "GET", "/no/such/route", "application/json", "" },
        { "PUT", "/health", "application/json", "{}" },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Refusals_AreProblemsWithoutInternals(string method, string url, string contentType, string body)
    {
        using var client = factory.CreateClient();
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body.Length > 0) request.Content = ApiClient.Bytes(System.Text.Encoding.Latin1.GetBytes(body), contentType);
        var response = await client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{method} {url}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Ops.AssertNoLeak(text, $"{method} {url}");
    }
}
