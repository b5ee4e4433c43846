using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>
/// The nodes (Hangfire servers) that share this service's job storage. Injected, so the submitter (does any node serve
/// the gpu queue?), the benchmark (how many workers?) and <c>GET /nodes</c> read one answer and none reaches into the API.
/// </summary>
public interface INodeDirectory
{
    /// <summary>Every registered server, newest heartbeat first, with alive nodes and convolution workers counted once.</summary>
    NodesResponse Snapshot();
}
