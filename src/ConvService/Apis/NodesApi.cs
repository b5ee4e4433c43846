using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConvService.Apis;

/// <summary>The Hangfire servers (nodes) that share this service's job storage.</summary>
public static class NodesApi
{
    /// <summary>A server whose last heartbeat is older than this is reported as not alive (Hangfire beats every 30 s by default).</summary>
    public static readonly TimeSpan AliveWindow = TimeSpan.FromMinutes(1);

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
    public static Ok<NodesResponse> GetNodes(JobStorage storage, TimeProvider time, Jobs.GpuRunner gpu, Microsoft.Extensions.Options.IOptions<Options.ConvServiceOptions> options) =>
        TypedResults.Ok(Snapshot(storage, time) with { ThisNode = new NodeAccelerators(options.Value.EffectiveNodeName, gpu.Accelerators, gpu.Device) });

    /// <summary>
    /// The servers in <paramref name="storage"/> as <c>GET /nodes</c> reports them: alive nodes and convolution workers
    /// counted once. Readiness and the benchmark's worker count read it too.
    /// </summary>
    public static NodesResponse Snapshot(JobStorage storage, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var nodes = storage.GetMonitoringApi().Servers()
            .Select(server =>
            {
                var beat = server.Heartbeat is { } h ? DateTime.SpecifyKind(h, DateTimeKind.Utc) : (DateTime?)null;
                return new NodeInfo(
                    Name: server.Name,
                    Node: NodeName(server.Name),
                    Workers: server.WorkersCount,
                    Queues: server.Queues?.ToArray() ?? [],
                    StartedAt: DateTime.SpecifyKind(server.StartedAt, DateTimeKind.Utc),
                    Heartbeat: beat,
                    Alive: beat is { } b && now - b <= AliveWindow);
            })
            .OrderByDescending(n => n.Heartbeat)
            .ThenBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
        // Each node runs two Hangfire servers (convolutions, and benchmarks with one worker): count nodes once, and
        // count the convolution workers, the ones jobs and the hangfire benchmark strategy spread over.
        var convolutionServers = nodes.Where(n => n.Alive && n.Queues.Contains(Jobs.QueueNames.Convolutions)).ToList();
        return new NodesResponse(
            convolutionServers.Select(n => n.Node).Distinct(StringComparer.Ordinal).Count(), convolutionServers.Sum(n => n.Workers), nodes);
    }

    /// <summary>
    /// The node part of a Hangfire server id. Hangfire names servers "{ServerName}:{pid}:{guid}" and ours are
    /// "{node}:{queue}", so the node is everything before the third colon from the end.
    /// </summary>
    public static string NodeName(string serverId)
    {
        int end = serverId.Length;
        for (int i = 0; i < 3; i++)
        {
            end = serverId.LastIndexOf(':', end - 1);
            if (end <= 0) return serverId;
        }
        return serverId[..end];
    }
}

/// <summary>The <c>GET /nodes</c> document.</summary>
/// <param name="Alive">Servers with a recent heartbeat.</param>
/// <param name="Workers">Workers on the alive servers.</param>
/// <param name="Nodes">Every registered server. A node with a GPU runs a server for the <c>gpu</c> queue.</param>
/// <param name="ThisNode">The answering node's accelerators (each node lists its own; the gpu servers show which nodes have one).</param>
public sealed record NodesResponse(int Alive, int Workers, IReadOnlyList<NodeInfo> Nodes, NodeAccelerators? ThisNode = null);

/// <summary>A node's accelerators.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Accelerators">Every GPU (CUDA, OpenCL) ILGPU finds on it; empty when none.</param>
/// <param name="GpuDevice">The device that runs its <c>method: "gpu"</c> jobs, or null when it runs none.</param>
public sealed record NodeAccelerators(string Node, IReadOnlyList<ConvService.Gpu.AcceleratorInfo> Accelerators, ConvService.Gpu.AcceleratorInfo? GpuDevice);

/// <summary>One Hangfire server.</summary>
/// <param name="Name">Hangfire's server id ("{node}:{queue}:{pid}:{guid}").</param>
/// <param name="Node">The node name (ConvService:NodeName) it runs for.</param>
/// <param name="Workers">Worker count.</param>
/// <param name="Queues">Queues it serves.</param>
/// <param name="StartedAt">When it started (UTC).</param>
/// <param name="Heartbeat">Its last heartbeat (UTC), if any.</param>
/// <param name="Alive">True when the last heartbeat is within a minute.</param>
public sealed record NodeInfo(string Name, string Node, int Workers, string[] Queues, DateTime StartedAt, DateTime? Heartbeat, bool Alive);
