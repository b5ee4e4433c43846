using System.Net;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests.Security;

/// <summary>
/// Real 500s, provoked by a job store that fails the way a database driver does (a message full of secrets), in the
/// Testing, Production and Development environments: Development would answer with the developer exception page if the
/// exception handler were not in the pipeline there too. One host per test, none shared (Hangfire's global state).
/// </summary>
public sealed class UnexpectedErrorTests
{
    [Theory]
    [InlineData("Testing")]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task UnexpectedErrors_Are500ProblemsWithoutInternals(string environment)
    {
        using var host = new ConvServiceFactory();
        using var failing = host.WithWebHostBuilder(builder =>
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
        public ValueTask<IReadOnlyList<ConvolutionJobRecord>> ListAsync(JobStatus? status, int limit, string? after, string? owner, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<bool> IsResultReferencedAsync(string arrayId, string exceptJobId, CancellationToken cancellationToken = default) => throw Boom();
        public ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default) => throw Boom();
    }
}
