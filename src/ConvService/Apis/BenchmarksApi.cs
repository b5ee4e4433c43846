using ConvService.Apis.Contracts;
using ConvService.Benchmarks;
using ConvService.Http;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ConvService.Apis;

/// <summary>Benchmarks: the IRSA tutorial's experiment (or any size) across execution strategies.</summary>
public static class BenchmarksApi
{
    /// <summary>Maps <c>/benchmarks</c>.</summary>
    public static IEndpointRouteBuilder MapBenchmarksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/benchmarks").WithTags("Benchmarks").RequireApiKey(); // owned data: see ApiKeyPolicies
        group.MapPost("/", SubmitAsync).WithName("SubmitBenchmark")
            .WithSummary("Queue a benchmark; an empty body {} runs the IRSA tutorial's experiment. With ?wait=SECONDS answer 200 with the report if it ends in time.")
            .Accepts<BenchmarkRequest>("application/json")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422);
        group.MapGet("/", ListAsync).WithName("ListBenchmarks").WithSummary("Benchmarks, newest first.").ProducesProblem(400);
        group.MapGet("/{id}", GetAsync).WithName("GetBenchmark").WithSummary("One benchmark: progress, environment, per-strategy timings and speedups.").ProducesProblem(404);
        group.MapGet("/{id}/chart.svg", GetChartAsync).WithName("GetBenchmarkChart")
            .WithSummary("Speedup per strategy against the ideal line, as SVG for a browser.")
            .Produces<string>(StatusCodes.Status200OK, "image/svg+xml").ProducesProblem(404).ProducesProblem(409);
        group.MapDelete("/{id}", DeleteAsync).WithName("DeleteBenchmark")
            .WithSummary("Cancel a queued or running benchmark (200), or delete a finished one (204).").ProducesProblem(404);
        return app;
    }

    /// <summary>Submits a benchmark.</summary>
    public static async Task<Results<Ok<BenchmarkReport>, Accepted<BenchmarkReport>>> SubmitAsync(
        HttpRequest httpRequest, [AsParameters] WaitQuery query, BenchmarkService service, ApiKeyRing keys, IOptions<ConvServiceOptions> options,
        CancellationToken cancellationToken)
    {
        var wait = query.Validate(options.Value.Limits.MaxWaitSeconds);
        var request = await RequestBody.ReadJsonAsync<BenchmarkRequest>(httpRequest, "{} (the tutorial's defaults) or {\"iterations\": 20}", cancellationToken);
        var report = await service.SubmitAsync(request, keys.OwnerOf(httpRequest.HttpContext), cancellationToken);
        if (wait > TimeSpan.Zero)
        {
            report = await service.WaitAsync(report.Id, wait, cancellationToken) ?? report;
            if (report.Status.IsFinished()) return TypedResults.Ok(report);
        }
        return TypedResults.Accepted($"/benchmarks/{report.Id}", report);
    }

    /// <summary>Lists benchmarks.</summary>
    public static async Task<Ok<BenchmarkPage>> ListAsync([AsParameters] ListQuery query, HttpContext context, ApiKeyRing keys, IBenchmarkStore benchmarks,
        IOptions<ConvServiceOptions> options, CancellationToken cancellationToken)
    {
        int limit = query.ValidLimit(options.Value.Limits.MaxPageSize);
        if (query.Status is not null) throw RequestRejectedException.BadRequest("GET /benchmarks has no status filter; page with limit and after.");
        var fetched = await benchmarks.ListAsync(limit + 1, query.ValidAfter("benchmark"), keys.OwnerOf(context), cancellationToken);
        var (items, next) = ListQuery.Cut(fetched, limit, report => report, report => report.Id);
        return TypedResults.Ok(new BenchmarkPage(items, next));
    }

    /// <summary>Gets one benchmark, optionally waiting for it to finish.</summary>
    public static async Task<Ok<BenchmarkReport>> GetAsync(string id, [AsParameters] WaitQuery query, HttpContext context, ApiKeyRing keys,
        BenchmarkService service, IOptions<ConvServiceOptions> options, CancellationToken cancellationToken)
    {
        var wait = query.Validate(options.Value.Limits.MaxWaitSeconds);
        var report = await FindAsync(id, service, keys.OwnerOf(context), cancellationToken);
        if (wait > TimeSpan.Zero) report = await service.WaitAsync(id, wait, cancellationToken) ?? throw NotFound(id);
        return TypedResults.Ok(report);
    }

    /// <summary>The speedup chart.</summary>
    public static async Task<ContentHttpResult> GetChartAsync(string id, HttpContext context, ApiKeyRing keys, BenchmarkService service, CancellationToken cancellationToken)
    {
        var report = await FindAsync(id, service, keys.OwnerOf(context), cancellationToken);
        if (report.Status != JobStatus.Succeeded)
            throw new RequestRejectedException(StatusCodes.Status409Conflict, "No chart yet",
                $"Benchmark {id} is {report.Status.ToString().ToLowerInvariant()}; the chart exists once it has succeeded. Use GET /benchmarks/{id}?wait=60.");
        return TypedResults.Content(BenchmarkSummary.Chart(report), "image/svg+xml");
    }

    /// <summary>Cancels or deletes a benchmark.</summary>
    public static async Task<Results<Ok<BenchmarkReport>, NoContent>> DeleteAsync(string id, HttpContext context, ApiKeyRing keys, BenchmarkService service,
        CancellationToken cancellationToken)
    {
        await FindAsync(id, service, keys.OwnerOf(context), cancellationToken); // another key's benchmark is a 404
        var (outcome, report) = await service.CancelOrDeleteAsync(id, cancellationToken);
        return outcome switch
        {
            DeleteOutcome.Cancelled => TypedResults.Ok(report!),
            DeleteOutcome.Deleted => TypedResults.NoContent(),
            _ => throw NotFound(id),
        };
    }

    /// <summary>The benchmark when it exists and <paramref name="owner"/> may see it (any, without keys); else 404.</summary>
    private static async Task<BenchmarkReport> FindAsync(string id, BenchmarkService service, string? owner, CancellationToken cancellationToken)
    {
        if (!JobIds.IsWellFormed(id)) throw NotFound(id);
        return await service.GetAsync(id, cancellationToken) is { } report && (owner is null || report.Owner == owner) ? report : throw NotFound(id);
    }

    private static RequestRejectedException NotFound(string id) => RequestRejectedException.NotFound(
        JobIds.IsWellFormed(id)
            ? $"No benchmark {id}: it never existed or was deleted."
            : $"No benchmark '{Echo.Clip(id, 80)}': benchmark ids are 32 lowercase hex digits, as returned by POST /benchmarks.");
}
