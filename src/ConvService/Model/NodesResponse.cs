namespace ConvService.Model;

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
