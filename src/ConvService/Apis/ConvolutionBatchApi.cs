using ConvService.Model;
using ConvService.Apis.Contracts;
using ConvService.Http;
using ConvService.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConvService.Apis;

/// <summary><c>POST /convolutions/batch</c>: many convolution jobs in one request.</summary>
public static class ConvolutionBatchApi
{
    private const string Example = "{\"jobs\": [" + Examples.SmallConvolution + "]}";

    /// <summary>Maps <c>POST /batch</c> on the convolutions group.</summary>
    public static RouteGroupBuilder MapConvolutionBatch(this RouteGroupBuilder group)
    {
        group.MapPost("/batch", SubmitBatchAsync).WithName("SubmitConvolutionBatch")
            .WithSummary("Queue many convolution jobs at once: {\"jobs\": [<body of POST /convolutions>, ...]}. Answers 202 listing each job (id, status, links) or its refusal; 400/413/422/429 refuse the batch as a whole.")
            .Accepts<ConvolutionBatchRequest>("application/json")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        return group;
    }

    /// <summary>
    /// Submits a batch. Every job is checked as <c>POST /convolutions</c> checks it; a refused job is reported in its item
    /// (its problem's status, title and detail) and leaves nothing behind, while the others are queued. The accepted jobs
    /// are recorded in one transaction: a batch costs about the durable commits of one job. The batch itself is refused
    /// when it is not <c>{"jobs": [...]}</c> (400), has more than ConvService:Limits:MaxBatchJobs jobs (413), none (422),
    /// or does not fit in the queue (429); 503 when storage does not answer (nothing accepted).
    /// </summary>
    public static async Task<Accepted<ConvolutionBatchResponse>> SubmitBatchAsync(
        HttpRequest httpRequest, ConvolutionBatchSubmitter submitter, ApiKeyRing keys, CancellationToken cancellationToken)
    {
        var batch = await RequestBody.ReadJsonAsync<ConvolutionBatchRequest>(httpRequest, Example, cancellationToken);
        var response = await submitter.SubmitAsync(batch, keys.OwnerOf(httpRequest.HttpContext), cancellationToken);
        return TypedResults.Accepted("/convolutions", response);
    }
}
