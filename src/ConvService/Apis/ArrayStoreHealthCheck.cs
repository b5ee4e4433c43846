using ConvService.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConvService.Apis;

/// <summary>Readiness of the array store (with PostgreSQL, the database): its ping answers.</summary>
public sealed class ArrayStoreHealthCheck(IArrayStore arrays) : IHealthCheck
{
    /// <summary>The check's name, and its key in the readiness document's <c>checks</c>.</summary>
    public const string Name = "arrayStore";

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        // Exceptions are left to HealthCheckService, which reports them as unhealthy (and the endpoint as "unreachable").
        await arrays.PingAsync(cancellationToken) ? HealthCheckResult.Healthy("reachable") : HealthCheckResult.Unhealthy("unreachable");
}
