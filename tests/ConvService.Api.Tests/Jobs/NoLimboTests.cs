using System.Net;
using System.Text.Json;
using ConvService.Api.Tests.Security;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Tests.Jobs;

/// <summary>Every path ends with a final record: Hangfire's final failure, a dashboard delete, a lost Hangfire-id write, a failed create.</summary>
/// <remarks>One host per test: Hangfire's process-wide configuration follows the newest host.</remarks>
public sealed class NoLimboTests
{
    // Long enough (naive, Debug) to still be running when Hangfire's state is changed under it.
    private const string SlowJob = """{"image": {"generate": {"shape": [200, 200]}}, "kernel": {"generate": {"shape": [31, 31]}}, "method": "naive"}""";

    private static async Task<JsonElement> WaitForAsync(HttpClient client, string id, Func<string, bool> done)
    {
        for (int i = 0; i < 200; i++)
        {
            var job = await (await client.GetAsync("/convolutions/" + id)).ReadJsonAsync();
            if (done(job.GetProperty("status").GetString()!)) return job;
            await Task.Delay(50);
        }
        throw new TimeoutException($"Job {id} did not get there.");
    }

    private static async Task<(string Id, string HangfireId)> SubmitRunningAsync(ConvServiceFactory factory, HttpClient client)
    {
        var response = await client.PostAsync("/convolutions", ApiClient.Json(SlowJob));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string id = (await response.ReadJsonAsync()).GetProperty("id").GetString()!;
        await WaitForAsync(client, id, s => s == "running");
        var record = await factory.Services.GetRequiredService<IJobStore>().TryGetAsync(id);
        return (id, record!.HangfireJobId!);
    }

    private static async Task AssertUnpinnedAsync(ConvServiceFactory factory, string id)
    {
        // Unpinned inputs can be deleted: a pin left behind would answer 409.
        using var client = factory.CreateClient();
        var record = await factory.Services.GetRequiredService<IJobStore>().TryGetAsync(id);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/arrays/" + record!.Request.Image.ArrayId)).StatusCode);
    }

    [Fact]
    public async Task HangfireFailsTheJob_RecordBecomesFailed()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var (id, hangfireId) = await SubmitRunningAsync(factory, client);
        // What Hangfire does after the last storage-unavailable retry: it lets the failed state through. (A storage
        // exception here would be retried by the job's AutomaticRetry filter; an exception it does not retry is final.)
        factory.Services.GetRequiredService<IBackgroundJobClient>().ChangeState(hangfireId, new FailedState(new InvalidOperationException("store down")));
        var job = await WaitForAsync(client, id, s => s != "running");
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("store down", job.GetProperty("error").GetString());
        await AssertUnpinnedAsync(factory, id);
    }

    [Fact]
    public async Task JobDeletedInDashboard_RecordBecomesCancelled()
    {
        using var factory = new ConvServiceFactory();
        using var client = factory.CreateClient();
        var (id, hangfireId) = await SubmitRunningAsync(factory, client);
        factory.Services.GetRequiredService<IBackgroundJobClient>().Delete(hangfireId); // what the dashboard's Delete button does
        var job = await WaitForAsync(client, id, s => s != "running");
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        await AssertUnpinnedAsync(factory, id);
    }

    [Fact]
    public async Task RecordingTheHangfireIdFails_ClientGetsTheQueuedJobAndItRuns()
    {
        using var host = new ConvServiceFactory();
        using var factory = host.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IJobStore>(provider => new FaultyJobStore(new InMemoryJobStore(provider.GetRequiredService<IOptions<ConvServiceOptions>>())) { FailHangfireIdWrite = true })));
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions?wait=30", ApiClient.Json(Ops.SmallJob));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // not 503 "nothing was accepted": it was, and it ran once
        var job = await response.ReadJsonAsync();
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task CreatingTheRecordFails_InputsAreNotLeftPinned()
    {
        using var host = new ConvServiceFactory();
        using var factory = host.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IJobStore>(provider => new FaultyJobStore(new InMemoryJobStore(provider.GetRequiredService<IOptions<ConvServiceOptions>>())) { FailCreate = true })));
        using var client = factory.CreateClient();
        string imageId = (await (await client.PostAsync("/arrays", ApiClient.Json(Ops.SmallArray))).ReadJsonAsync()).GetProperty("id").GetString()!;
        var response = await client.PostAsync("/convolutions", ApiClient.Json($$$"""{"image": {"arrayId": "{{{imageId}}}"}, "kernel": {"data": [[1]]}}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/arrays/" + imageId)).StatusCode); // no pin left: not 409
    }

    /// <summary>A job store that fails chosen writes as an unreachable database would.</summary>
    private sealed class FaultyJobStore(IJobStore inner) : IJobStore
    {
        public bool FailCreate { get; init; }
        public bool FailHangfireIdWrite { get; init; }

        public ValueTask CreateAsync(ConvolutionJobRecord job, CancellationToken cancellationToken = default) =>
            FailCreate ? throw new TimeoutException("create failed") : inner.CreateAsync(job, cancellationToken);
        public ValueTask<ConvolutionJobRecord?> TryGetAsync(string id, CancellationToken cancellationToken = default) => inner.TryGetAsync(id, cancellationToken);
        public ValueTask<(ConvolutionJobRecord? Record, bool Changed)> UpdateAsync(string id, Func<ConvolutionJobRecord, ConvolutionJobRecord?> update, CancellationToken cancellationToken = default) =>
            inner.UpdateAsync(id, current => update(current) is { } next && FailHangfireIdWrite && next.HangfireJobId is not null && current.HangfireJobId is null
                ? throw new TimeoutException("update failed") : update(current), cancellationToken);
        public ValueTask<IReadOnlyList<ConvolutionJobRecord>> ListAsync(JobStatus? status, int limit, string? after, string? owner, CancellationToken cancellationToken = default) =>
            inner.ListAsync(status, limit, after, owner, cancellationToken);
        public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
        public ValueTask<bool> IsResultReferencedAsync(string arrayId, string exceptJobId, CancellationToken cancellationToken = default) => inner.IsResultReferencedAsync(arrayId, exceptJobId, cancellationToken);
        public ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default) => inner.CountActiveAsync(cancellationToken);
    }
}
