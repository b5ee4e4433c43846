using ConvService.Storage;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConvService.Apis;

/// <summary>Liveness and readiness probes.</summary>
public static class HealthApi
{
    /// <summary>Maps <c>/health</c> and <c>/health/ready</c>.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/", GetLiveness).WithName("GetHealth").WithSummary("Liveness: the process is up and serving requests.");
        group.MapGet("/ready", GetReadinessAsync).WithName("GetReadiness")
            .WithSummary("Readiness: storage reachable and a Hangfire server processing this node's queues.");
        return app;
    }

    /// <summary>Always healthy while the process can answer.</summary>
    public static Ok<HealthResponse> GetLiveness() => TypedResults.Ok(new HealthResponse("healthy"));

    /// <summary>Checks the array store, Hangfire's storage and that a Hangfire server is alive.</summary>
    public static async Task<Results<Ok<ReadinessResponse>, JsonHttpResult<ReadinessResponse>>> GetReadinessAsync(
        IArrayStore arrays, JobStorage hangfireStorage, TimeProvider time, CancellationToken cancellationToken)
    {
        var checks = new Dictionary<string, string>();
        bool ready = true;
        try
        {
            bool ok = await arrays.PingAsync(cancellationToken);
            checks["arrayStore"] = ok ? "reachable" : "unreachable";
            ready &= ok;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            checks["arrayStore"] = "unreachable";
            ready = false;
        }
        try
        {
            int alive = 0, workers = 0;
            foreach (var server in NodesApi.Snapshot(hangfireStorage, time).Nodes)
            {
                if (server.Alive) { alive++; workers += server.Workers; }
            }
            checks["jobStorage"] = "reachable";
            checks["hangfireServers"] = $"{alive} alive, {workers} workers";
            ready &= alive > 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            checks["jobStorage"] = "unreachable";
            ready = false;
        }
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
