using System.Net;
using System.Net.Http.Json;
using ConvService.Core.Arrays;
using ConvService.Storage;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests;

public sealed class HealthApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    [Fact]
    public async Task GetHealth_Always_ReturnsHealthy()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.Equal("healthy", body!["status"]);
    }

    [Fact]
    public async Task GetLiveAndReady_ArrayStoreDown_LiveStays200ReadyIs503NamingTheStore()
    {
        using var down = factory.WithWebHostBuilder(web => web.ConfigureTestServices(services => services.AddSingleton<IArrayStore, UnreachableArrayStore>()));
        using var client = down.CreateClient();

        foreach (var url in new[] { "/health", "/health/live" })
        {
            var live = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal("healthy", (await live.ReadJsonAsync()).GetProperty("status").GetString());
        }

        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        string text = await ready.Content.ReadAsStringAsync();
        var body = await ready.ReadJsonAsync();
        Assert.Equal("unready", body.GetProperty("status").GetString());
        Assert.Equal("unreachable", body.GetProperty("checks").GetProperty("arrayStore").GetString());
        Assert.Equal("reachable", body.GetProperty("checks").GetProperty("jobStorage").GetString());
        Assert.DoesNotContain(UnreachableArrayStore.Message, text); // the exception stays in the log
    }

    [Fact]
    public async Task GetReady_AllReachable_ListsEachCheck()
    {
        using var client = factory.CreateClient();
        var response = await client.WaitUntilReadyAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var checks = (await response.ReadJsonAsync()).GetProperty("checks");
        Assert.Equal("reachable", checks.GetProperty("arrayStore").GetString());
        Assert.Equal("reachable", checks.GetProperty("jobStorage").GetString());
        Assert.Matches("^[1-9][0-9]* alive, [1-9][0-9]* workers$", checks.GetProperty("hangfireServers").GetString());
    }

    /// <summary>An array store whose database is gone: every call throws.</summary>
    private sealed class UnreachableArrayStore : IArrayStore
    {
        public const string Message = "connection refused (test)";
        private static InvalidOperationException Down() => new(Message);
        public ValueTask<ArrayPutOutcome> PutBufferAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken = default) => throw Down();
        public ValueTask<Array2D?> TryGetAsync(string id, CancellationToken cancellationToken = default) => throw Down();
        public ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default) => throw Down();
        public ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default) => throw Down();
        public ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default) => throw Down();
        public ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default) => throw Down();
        public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => throw Down();
    }
}
