using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConvService.Apis;

/// <summary>Liveness and readiness probes over the registered <see cref="IHealthCheck"/>s.</summary>
/// <remarks>
/// The checks are ordinary health checks (<see cref="ArrayStoreHealthCheck"/>, <see cref="HangfireHealthCheck"/>,
/// tagged <see cref="ReadyTag"/>): <see cref="HealthCheckService"/> runs them concurrently, turns a throwing check
/// into an unhealthy entry and logs each result. The endpoints stay minimal-API handlers calling that service rather
/// than <c>MapHealthChecks</c>: ApiExplorer does not see <c>MapHealthChecks</c> endpoints, so /health/ready would
/// drop out of the OpenAPI document (SwaggerTests lists it) or need a hand-written document filter repeating its
/// path, statuses and schema; a handler's <see cref="Results{TResult1,TResult2}"/> signature documents itself.
/// </remarks>
public static class HealthApi
{
    /// <summary>The tag of the checks readiness runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Maps <c>/health</c>, <c>/health/live</c> and <c>/health/ready</c>.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/", GetLiveness).WithName("GetHealth").WithSummary("Liveness: the process is up and serving requests.");
        group.MapGet("/live", GetLiveness).WithName("GetLiveness")
            .WithSummary("Liveness, as /health: checks no dependency, so a database outage never gets a healthy process restarted.");
        group.MapGet("/ready", GetReadinessAsync).WithName("GetReadiness")
            .WithSummary("Readiness: storage reachable and a Hangfire server processing this node's queues.");
        return app;
    }

    /// <summary>Always healthy while the process can answer.</summary>
    public static Ok<HealthResponse> GetLiveness() => TypedResults.Ok(new HealthResponse("healthy"));

    /// <summary>Runs the readiness checks: 200 when every one is healthy, else 503; each check says what it found.</summary>
    public static async Task<Results<Ok<ReadinessResponse>, JsonHttpResult<ReadinessResponse>>> GetReadinessAsync(
        HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken);
        var checks = new Dictionary<string, string>();
        foreach (var (name, entry) in report.Entries)
        {
            // A check that answered reports its findings as data; one that threw (or timed out) has none: unreachable.
            if (entry.Data.Count == 0) checks[name] = entry.Status == HealthStatus.Healthy ? "reachable" : "unreachable";
            foreach (var (key, value) in entry.Data) checks[key] = value.ToString() ?? "";
        }
        bool ready = report.Status == HealthStatus.Healthy;
        var body = new ReadinessResponse(ready ? "ready" : "unready", checks);
        return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

/// <summary>Health document.</summary>
/// <param name="Status">"healthy".</param>
public sealed record HealthResponse(string Status);

/// <summary>Readiness document.</summary>
/// <param name="Status">"ready" or "unready".</param>
/// <param name="Checks">Each dependency and what was found.</param>
public sealed record ReadinessResponse(string Status, IReadOnlyDictionary<string, string> Checks);
