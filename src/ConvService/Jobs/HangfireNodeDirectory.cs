using ConvService.Model;
using Hangfire;

namespace ConvService.Jobs;

/// <summary><see cref="INodeDirectory"/> read from Hangfire's monitoring API on the host's job storage.</summary>
/// <param name="storage">The host's job storage.</param>
/// <param name="time">The clock that judges heartbeats.</param>
public sealed class HangfireNodeDirectory(JobStorage storage, TimeProvider time) : INodeDirectory
{
    /// <summary>A server whose last heartbeat is older than this is reported as not alive (Hangfire beats every 30 s by default).</summary>
    public static readonly TimeSpan AliveWindow = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Every server registered in the job storage, newest heartbeat first. With PostgreSQL these are all nodes on the
    /// database; a server that died stays listed (alive = false) until Hangfire's watchdog removes it.
    /// </summary>
    public NodesResponse Snapshot()
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
        var convolutionServers = nodes.Where(n => n.Alive && n.Queues.Contains(QueueNames.Convolutions)).ToList();
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
