using ConvService.Core.Arrays;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Tests.Security;

/// <summary>Its own class (and host): Hangfire's process-wide configuration follows the newest host, so two live hosts in one class interfere.</summary>
public sealed class JobFailureMetricsTests
{
    [Fact]
    public async Task FailedJob_IsCountedAsFailed_NotSucceeded()
    {
        // Inputs that vanish between submission and run are one real way a job fails (an evicting or restarted store).
        using var host = new ConvServiceFactory();
        using var forgetful = host.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IArrayStore>(provider => new ForgetfulArrayStore(new InMemoryArrayStore(provider.GetRequiredService<IOptions<ConvServiceOptions>>())))));
        using var client = forgetful.CreateClient();
        string before = await Ops.ScrapeAsync(client);
        var job = await client.SubmitAndWaitAsync(Ops.SmallJob);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        string label = $"{{method=\"{job.GetProperty("method").GetString()}\"}}";
        string after = await Ops.ScrapeAsync(client);
        Assert.Equal(1, Ops.Delta(before, after, "convservice_jobs_submitted_total" + label));
        Assert.Equal(1, Ops.Delta(before, after, "convservice_jobs_failed_total" + label));
        Assert.Equal(0, Ops.Delta(before, after, "convservice_jobs_succeeded_total" + label));
        Assert.Equal(0, Ops.Delta(before, after, "convservice_job_compute_seconds_count" + label));
    }

    /// <summary>Stores and describes arrays but cannot load them back.</summary>
    private sealed class ForgetfulArrayStore(IArrayStore inner) : IArrayStore
    {
        public ValueTask<ArrayPutOutcome> PutBufferAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken = default) => inner.PutBufferAsync(array, hash, cancellationToken);
        public ValueTask<Array2D?> TryGetAsync(string id, CancellationToken cancellationToken = default) => ValueTask.FromResult<Array2D?>(null);
        public ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default) => inner.TryGetInfoAsync(id, cancellationToken);
        public ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
        public ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default) => inner.PinAsync(id, cancellationToken);
        public ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default) => inner.UnpinAsync(id, cancellationToken);
        public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }
}
