using System.ComponentModel;
using ConvService.Apis.Contracts;
using ConvService.Core.Arrays;
using ConvService.Http;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ConvService.Apis;

/// <summary>Convolution jobs: submit, inspect, fetch results, list, cancel.</summary>
public static class ConvolutionsApi
{
    /// <summary>Maps <c>/convolutions</c>.</summary>
    public static IEndpointRouteBuilder MapConvolutionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/convolutions").WithTags("Convolutions").RequireApiKey(); // owned data: see ApiKeyPolicies
        group.MapPost("/", SubmitAsync).WithName("SubmitConvolution")
            .WithSummary("Queue a convolution job; with ?wait=SECONDS answer 200 with the finished job if it ends in time.")
            .Accepts<ConvolutionRequest>("application/json")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        group.MapConvolutionBatch(); // POST /convolutions/batch: Apis/ConvolutionBatchApi.cs
        group.MapGet("/", ListAsync).WithName("ListConvolutions").WithSummary("Jobs, newest first, paged with ?after=.").ProducesProblem(400);
        group.MapGet("/{id}", GetAsync).WithName("GetConvolution").WithSummary("One job: status, timings, method, result summary.").ProducesProblem(404);
        group.MapGet("/{id}/result", GetResultAsync).WithName("GetConvolutionResult")
            .WithSummary("The output as JSON rows (default), .npy (Accept: application/x-npy), FITS with the input image's header, WCS adjusted, and HISTORY (Accept: application/fits) or a PNG preview (Accept: image/png).")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(409).ProducesProblem(410);
        group.MapGet("/{id}/results", GetResultsAsync).WithName("GetConvolutionResults")
            .WithSummary("Every result of a filter bank (or the one result of a one-kernel job) as one .npy stack of shape (kernels, rows, cols), always application/x-npy.")
            .ProducesProblem(404).ProducesProblem(409).ProducesProblem(410);
        group.MapDelete("/{id}", DeleteAsync).WithName("DeleteConvolution")
            .WithSummary("Cancel a queued or running job (200 with the job), or delete a finished one and its result (204).").ProducesProblem(404);
        return app;
    }

    /// <summary>Submits a job.</summary>
    public static async Task<Results<Ok<ConvolutionJobResponse>, Accepted<ConvolutionJobResponse>>> SubmitAsync(
        HttpRequest httpRequest, [AsParameters] WaitQuery query, ConvolutionSubmitter submitter, ConvolutionJobLifecycle lifecycle,
        ApiKeyRing keys, IOptions<ConvServiceOptions> options, CancellationToken cancellationToken)
    {
        var wait = query.Validate(options.Value.Limits.MaxWaitSeconds);
        var request = await RequestBody.ReadJsonAsync<ConvolutionRequest>(httpRequest, Examples.SmallConvolution, cancellationToken);
        var record = await submitter.SubmitAsync(request, keys.OwnerOf(httpRequest.HttpContext), cancellationToken);
        if (wait > TimeSpan.Zero)
        {
            var finished = await lifecycle.WaitAsync(record.Id, wait, cancellationToken) ?? record;
            if (finished.Status.IsFinished()) return TypedResults.Ok(ConvolutionJobResponse.From(finished));
            record = finished;
        }
        return TypedResults.Accepted($"/convolutions/{record.Id}", ConvolutionJobResponse.From(record));
    }

    /// <summary>Lists jobs.</summary>
    public static async Task<Ok<ConvolutionJobPage>> ListAsync([AsParameters] ListQuery query, HttpContext context, ApiKeyRing keys, IJobStore jobs, IOptions<ConvServiceOptions> options, CancellationToken cancellationToken)
    {
        int limit = query.ValidLimit(options.Value.Limits.MaxPageSize);
        JobStatus? status = query.Status is null ? null
            : JobStatusExtensions.TryParseWord(query.Status, out var parsed) ? parsed
            : throw RequestRejectedException.BadRequest($"Unknown status '{Echo.Clip(query.Status, 40)}': use queued, running, succeeded, failed or cancelled.");
        var fetched = await jobs.ListAsync(status, limit + 1, query.ValidAfter("job"), keys.OwnerOf(context), cancellationToken);
        var (items, next) = ListQuery.Cut(fetched, limit, ConvolutionJobResponse.From, job => job.Id);
        return TypedResults.Ok(new ConvolutionJobPage(items, next));
    }

    /// <summary>Gets one job.</summary>
    public static async Task<Ok<ConvolutionJobResponse>> GetAsync(string id, HttpContext context, ApiKeyRing keys, IJobStore jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(ConvolutionJobResponse.From(await FindAsync(id, jobs, keys.OwnerOf(context), cancellationToken)));

    /// <summary>Gets a job's output.</summary>
    public static async Task<ArrayContentResult> GetResultAsync(
        string id, HttpRequest request, [AsParameters] ResultQuery query, ApiKeyRing keys, IJobStore jobs, IArrayStore arrays, IArrayHeaderStore headers,
        IOptions<ConvServiceOptions> options, CancellationToken cancellationToken)
    {
        var format = ArrayFormats.Negotiate(request);
        var job = await FindSucceededAsync(id, jobs, keys.OwnerOf(request.HttpContext), cancellationToken);
        var summary = query.Pick(job);
        ArrayFormats.EnsureJsonFits(format, summary.Shape, options.Value.Limits.MaxJsonResultValues, "result");
        var result = await LoadResultAsync(job, summary, arrays, cancellationToken);
        var cards = format == ArrayFormat.Fits ? await FitsContent.ForResultAsync(headers, job, cancellationToken) : null;
        return new ArrayContentResult(result, format, fitsCards: cards);
    }

    /// <summary>Gets every result of a job as one .npy stack.</summary>
    public static async Task<NpyStackResult> GetResultsAsync(string id, HttpContext context, ApiKeyRing keys, IJobStore jobs, IArrayStore arrays,
        CancellationToken cancellationToken)
    {
        var job = await FindSucceededAsync(id, jobs, keys.OwnerOf(context), cancellationToken);
        var summaries = job.Results ?? [job.Result!];
        var results = new Array2D[summaries.Count];
        for (int k = 0; k < results.Length; k++) results[k] = await LoadResultAsync(job, summaries[k], arrays, cancellationToken);
        return new NpyStackResult(results, id + "-results");
    }

    private static async Task<ConvolutionJobRecord> FindSucceededAsync(string id, IJobStore jobs, string? owner, CancellationToken cancellationToken)
    {
        var job = await FindAsync(id, jobs, owner, cancellationToken);
        if (job.Status != JobStatus.Succeeded)
            throw new RequestRejectedException(StatusCodes.Status409Conflict, "No result",
                job.Status.IsFinished()
                    ? $"Job {id} is {job.Status.ToString().ToLowerInvariant()} and has no result{(job.Error is null ? "" : ": " + job.Error)}"
                    : $"Job {id} is {job.Status.ToString().ToLowerInvariant()}; its result is not ready. Poll GET /convolutions/{id} or submit with ?wait=SECONDS.");
        return job;
    }

    private static async Task<Array2D> LoadResultAsync(ConvolutionJobRecord job, JobResultSummary summary, IArrayStore arrays, CancellationToken cancellationToken) =>
        await arrays.For(job.Owner).TryGetAsync(summary.ArrayId, cancellationToken)
            ?? throw new RequestRejectedException(StatusCodes.Status410Gone, "Result evicted",
                $"Job {job.Id}'s result was evicted from the array store (ConvService:Limits:ArrayStoreBytes). Submit the job again to recompute it.");

    /// <summary>Cancels or deletes a job.</summary>
    public static async Task<Results<Ok<ConvolutionJobResponse>, NoContent>> DeleteAsync(string id, HttpContext context, ApiKeyRing keys, IJobStore jobs,
        ConvolutionJobLifecycle lifecycle, CancellationToken cancellationToken)
    {
        await FindAsync(id, jobs, keys.OwnerOf(context), cancellationToken); // another key's job is a 404, as if it did not exist
        var (outcome, record) = await lifecycle.CancelOrDeleteAsync(id, cancellationToken);
        return outcome switch
        {
            DeleteOutcome.Cancelled => TypedResults.Ok(ConvolutionJobResponse.From(record!)),
            DeleteOutcome.Deleted => TypedResults.NoContent(),
            _ => throw JobIds.NotFound(id),
        };
    }

    private static async Task<ConvolutionJobRecord> FindAsync(string id, IJobStore jobs, string? owner, CancellationToken cancellationToken)
    {
        if (!JobIds.IsWellFormed(id)) throw JobIds.NotFound(id);
        return await jobs.TryGetAsync(id, cancellationToken) is { } job && job.IsVisibleTo(owner) ? job : throw JobIds.NotFound(id);
    }
}

/// <summary>Query for <c>GET /convolutions/{id}/result</c>.</summary>
/// <param name="Index">Which result of a filter bank (0-based, in the order of <c>kernels</c>); omit (or 0) for a one-kernel job.</param>
public sealed record ResultQuery(
    [property: FromQuery(Name = "index"), Description("A filter bank's result index, 0 to kernels − 1; omit for a one-kernel job.")] string? Index)
{
    /// <summary>The summary of the result asked for, refusing an index the job does not have.</summary>
    public JobResultSummary Pick(ConvolutionJobRecord job)
    {
        // Parsed here, not bound as int: a malformed index gets this API's problem detail instead of the framework's bare 400.
        int? parsed = null;
        if (Index is not null)
            parsed = int.TryParse(Index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value
                : throw RequestRejectedException.BadRequest($"index='{Echo.Clip(Index, 40)}' is not a result index: use an integer from 0 to the number of kernels − 1.");
        return Pick(job, parsed);
    }

    private static JobResultSummary Pick(ConvolutionJobRecord job, int? requested)
    {
        if (job.Results is not { } results)
            return requested is null or 0 ? job.Result!
                : throw RequestRejectedException.BadRequest($"index={requested} is out of range: job {job.Id} has one kernel and one result; omit index.");
        if (requested is not { } index)
            throw RequestRejectedException.BadRequest(
                $"Job {job.Id} is a filter bank of {results.Count} kernels: pass ?index=0 to {results.Count - 1}, or GET /convolutions/{job.Id}/results for all of them as one .npy stack.");
        if (index < 0 || index >= results.Count)
            throw RequestRejectedException.BadRequest($"index={index} is out of range: job {job.Id} has {results.Count} results, index 0 to {results.Count - 1}.");
        return results[index];
    }
}

/// <summary>Query for <c>GET /convolutions</c>.</summary>
/// <param name="Status">Only jobs with this status: queued | running | succeeded | failed | cancelled.</param>
/// <param name="Limit">Page size (default 50).</param>
/// <param name="After">The <c>next</c> value of the previous page.</param>
public sealed record ListQuery(
    [property: Description("queued | running | succeeded | failed | cancelled")] string? Status,
    [property: Description("Page size, 1 to ConvService:Limits:MaxPageSize (default 50).")] int? Limit,
    [property: Description("Cursor: the 'next' value of the previous page.")] string? After)
{
    /// <summary>The page size, refusing one outside 1 to <paramref name="maxPageSize"/>.</summary>
    public int ValidLimit(int maxPageSize)
    {
        int limit = Limit ?? 50;
        if (limit < 1 || limit > maxPageSize)
            throw RequestRejectedException.BadRequest($"limit {limit} is out of range: use 1 to {maxPageSize} (ConvService:Limits:MaxPageSize).");
        return limit;
    }

    /// <summary>The cursor, refusing one that is not a <paramref name="kind"/> id (job and benchmark ids share a format).</summary>
    public string? ValidAfter(string kind)
    {
        if (After is { } after && !JobIds.IsWellFormed(after))
            throw RequestRejectedException.BadRequest($"after '{Echo.Clip(after, 80)}' is not a {kind} id: pass the 'next' value of the previous page.");
        return After;
    }

    /// <summary>
    /// Given the <paramref name="limit"/> + 1 rows fetched for a page, the first <paramref name="limit"/> mapped for
    /// the answer and the cursor of the next page (the last id kept), or null when no row was left over.
    /// </summary>
    public static (List<TItem> Items, string? Next) Cut<TRow, TItem>(IReadOnlyList<TRow> fetched, int limit, Func<TRow, TItem> map, Func<TItem, string> idOf)
    {
        var items = new List<TItem>(Math.Min(fetched.Count, limit));
        for (int i = 0; i < fetched.Count && i < limit; i++) items.Add(map(fetched[i]));
        return (items, fetched.Count > limit ? idOf(items[^1]) : null);
    }
}

/// <summary>The <c>?wait=SECONDS</c> query.</summary>
/// <param name="Wait">Seconds to wait for the job to finish before answering (0 to ConvService:Limits:MaxWaitSeconds).</param>
public sealed record WaitQuery([property: FromQuery(Name = "wait"), Description("Seconds to wait for completion (0–60 by default).")] string? Wait)
{
    /// <summary>The wait as a span, refusing values that are not numbers or out of range.</summary>
    public TimeSpan Validate(int maxSeconds)
    {
        if (Wait is null) return TimeSpan.Zero;
        if (!double.TryParse(Wait, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds)
            || !double.IsFinite(seconds) || seconds < 0 || seconds > maxSeconds)
            throw RequestRejectedException.BadRequest($"wait='{Echo.Clip(Wait, 40)}' is invalid: use a number of seconds from 0 to {maxSeconds} (ConvService:Limits:MaxWaitSeconds).");
        return TimeSpan.FromSeconds(seconds);
    }
}

/// <summary>Job id format and the matching 404.</summary>
public static class JobIds
{
    /// <summary>True for 32 lowercase hex digits.</summary>
    public static bool IsWellFormed(string? id) => id is { Length: 32 } && ArrayId.IsLowerHex(id);

    /// <summary>404 naming the id and its format.</summary>
    public static RequestRejectedException NotFound(string id) => RequestRejectedException.NotFound(
        IsWellFormed(id)
            ? $"No job {id}: it never existed, was deleted, or was forgotten (ConvService:Limits:MaxRetainedJobs)."
            : $"No job '{Echo.Clip(id, 80)}': job ids are 32 lowercase hex digits, as returned by POST /convolutions.");
}
