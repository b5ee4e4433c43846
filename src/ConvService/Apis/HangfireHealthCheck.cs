using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConvService.Apis;

/// <summary>
/// Readiness of Hangfire: its job storage answers and at least one server on it is alive. Registered under the name
/// <see cref="Name"/>, so a storage that throws reads <c>"jobStorage": "unreachable"</c> in the readiness document;
/// otherwise the result's data holds <c>jobStorage</c> and <c>hangfireServers</c> (alive servers and their workers).
/// </summary>
public sealed class HangfireHealthCheck(JobStorage storage, TimeProvider time) : IHealthCheck
{
    /// <summary>The check's name, and its key in the readiness document's <c>checks</c> when the storage fails.</summary>
    public const string Name = "jobStorage";

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        int alive = 0, workers = 0;
        foreach (var server in NodesApi.Snapshot(storage, time).Nodes)
        {
            if (server.Alive) { alive++; workers += server.Workers; }
        }
        var data = new Dictionary<string, object> { [Name] = "reachable", ["hangfireServers"] = $"{alive} alive, {workers} workers" };
        return Task.FromResult(alive > 0
            ? HealthCheckResult.Healthy("a Hangfire server is alive", data)
            : HealthCheckResult.Unhealthy("no Hangfire server is alive", data: data));
    }
}
