using ConvService.Gpu;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ConvService.Apis;

/// <summary>The Hangfire servers (nodes) that share this service's job storage.</summary>
public static class NodesApi
{
    /// <summary>A server whose last heartbeat is older than this is reported as not alive (Hangfire beats every 30 s by default).</summary>
    public static TimeSpan AliveWindow => HangfireNodeDirectory.AliveWindow;

    /// <summary>Maps <c>GET /nodes</c>.</summary>
    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/nodes", GetNodes).WithTags("Nodes").WithName("GetNodes")
            .WithSummary("Hangfire servers registered in the job storage: node, workers, queues, start and last heartbeat.")
            .ProducesProblem(503);
        return app;
    }

    /// <summary>
    /// Every server registered in the job storage, newest heartbeat first. With PostgreSQL these are all nodes on the
    /// database; a server that died stays listed (alive = false) until Hangfire's watchdog removes it.
    /// </summary>
    public static Ok<NodesResponse> GetNodes(INodeDirectory nodes, GpuRunner gpu, IOptions<ConvServiceOptions> options) =>
        TypedResults.Ok(nodes.Snapshot() with { ThisNode = new NodeAccelerators(options.Value.EffectiveNodeName, gpu.Accelerators, gpu.Device) });

    /// <summary>The servers in <paramref name="storage"/> as <c>GET /nodes</c> reports them (see <see cref="HangfireNodeDirectory"/>).</summary>
    public static NodesResponse Snapshot(JobStorage storage, TimeProvider time) => new HangfireNodeDirectory(storage, time).Snapshot();

    /// <summary>The node part of a Hangfire server id (see <see cref="HangfireNodeDirectory.NodeName"/>).</summary>
    public static string NodeName(string serverId) => HangfireNodeDirectory.NodeName(serverId);
}
