using System.Net;
using ConvService.Apis;
using ConvService.Http;
using ConvService.Storage;
using ConvService.Storage.Postgres;
using Npgsql;

namespace ConvService.Api.Tests;

public sealed class NodesApiTests
{
    [Fact]
    public async Task GetNodes_InMemory_ListsThisNodesServerAsAliveWithItsWorkersAndQueue()
    {
        using var factory = new ConvServiceFactory().With("ConvService:NodeName", "Solo-Node").With("ConvService:Workers", "3");
        using var client = factory.CreateClient();
        // The Hangfire server registers itself a moment after start.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        System.Text.Json.JsonElement body;
        do
        {
            var response = await client.GetAsync("/nodes");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            body = await response.ReadJsonAsync();
        } while (body.GetProperty("alive").GetInt32() == 0 && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));

        Assert.Equal(1, body.GetProperty("alive").GetInt32());
        Assert.Equal(3, body.GetProperty("workers").GetInt32());
        var servers = body.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(2, servers.Count); // the convolutions server and the one-worker benchmarks server
        var benchmarks = Assert.Single(servers, s => s.GetProperty("queues")[0].GetString() == "benchmarks");
        Assert.Equal(1, benchmarks.GetProperty("workers").GetInt32());
        var node = Assert.Single(servers, s => s.GetProperty("queues")[0].GetString() == "convolutions");
        Assert.Equal("solo-node", node.GetProperty("node").GetString()); // Hangfire lower-cases server names
        Assert.StartsWith("solo-node:convolutions:", node.GetProperty("name").GetString());
        Assert.Equal(new[] { "convolutions" }, node.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.True(node.GetProperty("alive").GetBoolean());
        Assert.True(node.GetProperty("heartbeat").GetDateTime() <= DateTime.UtcNow.AddSeconds(5));
    }

    [Theory]
    [InlineData("node-a:convolutions:123:6f1c2a9e-0000-4000-8000-000000000000", "node-a")]
    [InlineData("host:with:colons:convolutions:1:6f1c2a9e-0000-4000-8000-000000000000", "host:with:colons")]
    [InlineData("plain", "plain")]
    public void NodeName_IsTheServerIdWithoutQueuePidAndGuid(string serverId, string node) => Assert.Equal(node, NodesApi.NodeName(serverId));
}

public sealed class StorageErrorMappingTests
{
    private static PostgresException Server(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    [Theory]
    [InlineData("08006", true)] // connection failure
    [InlineData("57P01", true)] // admin shutdown (the server is restarting)
    [InlineData("53300", true)] // too many connections
    [InlineData("40001", true)] // serialization failure
    [InlineData("23505", false)] // unique violation: a bug or a conflict, not an outage
    [InlineData("42601", false)] // syntax error: a bug
    [InlineData("28P01", false)] // wrong password: configuration, retrying will not help
    public void ServerErrors_AreOutagesOnlyForConnectionResourceAndRetryableStates(string sqlState, bool unavailable) =>
        Assert.Equal(unavailable, new PostgresStorageFaults().IsUnavailable(Server(sqlState)));

    [Fact]
    public void ClientSideFailures_AndWrappedOnes_AreOutages()
    {
        Assert.True(new PostgresStorageFaults().IsUnavailable(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
        Assert.True(new PostgresStorageFaults().IsUnavailable(new InvalidOperationException("commit lost", new NpgsqlException("broken"))));
        Assert.True(new PostgresStorageFaults().IsUnavailable(new TimeoutException()));
        Assert.False(new PostgresStorageFaults().IsUnavailable(new InvalidOperationException("a bug")));
    }

    [Fact]
    public void ProblemMap_DatabaseOutageIs503WithRetryAfter_DatabaseBugIs500()
    {
        var outage = ProblemExceptionHandler.Map(new NpgsqlException("Failed to connect to 127.0.0.1:5432", new System.Net.Sockets.SocketException(111)));
        Assert.Equal(503, outage.Status);
        Assert.NotNull(outage.RetryAfter);
        Assert.Contains("Retry", outage.Detail);
        var bug = ProblemExceptionHandler.Map(Server("42601"));
        Assert.Equal(500, bug.Status);
        Assert.Null(bug.RetryAfter);
    }
}
