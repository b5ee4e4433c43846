using System.Net;
using ConvService.Jobs;
using ConvService.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests.Security;

/// <summary>
/// No response carries a stack trace, a source path or a connection string: representative refusals, and real
/// 500s provoked by a job store that fails the way a database driver does (message full of secrets), in the
/// Testing, Production and Development environments (Development would show the developer exception page if the
/// exception handler were not in the pipeline there too).
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

    [Theory]
    [InlineData("Testing")]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task UnexpectedErrors_Are500ProblemsWithoutInternals(string environment)
    {
        using var failing = factory.WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment(environment);
            builder.ConfigureTestServices(services => services.AddSingleton<IJobStore, UnreachableJobStore>());
        });
        using var client = failing.CreateClient();
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html"); // what a browser sends: the developer page's favourite

        foreach (var (method, url, content) in new (HttpMethod, string, HttpContent?)[]
        {
            (HttpMethod.Get, "/convolutions", null),
            (HttpMethod.Get, "/convolutions/0123456789abcdef0123456789abcdef", null),
            (HttpMethod.Post, "/convolutions", ApiClient.Json(Ops.SmallJob)),
        })
        {
            var response = await client.SendAsync(new HttpRequestMessage(method, url) { Content = content });
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.InternalServerError, $"{environment} {method} {url}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("unexpected error", text);
            Ops.AssertNoLeak(text, $"{environment} {method} {url}");
            Assert.DoesNotContain(nameof(UnreachableJobStore), text);
            Assert.DoesNotContain("InvalidOperationException", text);
        }

        // A scrape still works while the store is down; the queue gauge says "unknown" rather than a stale number.
        string metrics = await Ops.ScrapeAsync(client);
        Assert.Equal(double.NaN, Ops.Sample(metrics, "convservice_queue_length"));
        Ops.AssertNoLeak(metrics, "/metrics");
    }

    /// <summary>Fails like a database driver whose server is gone, with the secrets such messages tend to carry.</summary>
    private sealed class UnreachableJobStore : IJobStore
    {
        private static Exception Boom() => new InvalidOperationException(
            "Failed to connect using Host=db.internal;Port=5432;Username=conv;Password=hunter2 from /work/secret/Storage/PostgresJobStore.cs");

        public ValueTask CreateAsync(ConvolutionJobRecord job, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<ConvolutionJobRecord?> TryGetAsync(string id, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<(ConvolutionJobRecord? Record, bool Changed)> UpdateAsync(string id, Func<ConvolutionJobRecord, ConvolutionJobRecord?> update, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<IReadOnlyList<ConvolutionJobRecord>> ListAsync(JobStatus? status, int limit, string? after, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<bool> IsResultReferencedAsync(string arrayId, string exceptJobId, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default) => throw Boom();
    }
}
