using Microsoft.AspNetCore.Http.HttpResults;

namespace ConvService.Apis;

/// <summary>Liveness and readiness probes.</summary>
public static class HealthApi
{
    /// <summary>Maps <c>/health</c>.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/", GetLiveness).WithName("GetHealth").WithSummary("Liveness: the process is up and serving requests.");
        return app;
    }

    /// <summary>Always healthy while the process can answer.</summary>
    public static Ok<HealthResponse> GetLiveness() => TypedResults.Ok(new HealthResponse("healthy"));
}

/// <summary>Health document.</summary>
/// <param name="Status">"healthy" or "unhealthy".</param>
public sealed record HealthResponse(string Status);
