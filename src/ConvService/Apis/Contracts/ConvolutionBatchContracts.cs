using ConvService.Model;
using Microsoft.AspNetCore.Mvc;

namespace ConvService.Apis.Contracts;

/// <summary>Body of <c>POST /convolutions/batch</c>: many jobs in one request.</summary>
/// <param name="Jobs">The jobs, each exactly the body of <c>POST /convolutions</c>; at most ConvService:Limits:MaxBatchJobs.</param>
public sealed record ConvolutionBatchRequest(ConvolutionRequest?[]? Jobs);

/// <summary>What <c>POST /convolutions/batch</c> did with each job, in the order sent.</summary>
/// <param name="Accepted">Jobs queued.</param>
/// <param name="Refused">Jobs refused (each item says why); nothing of them was stored.</param>
/// <param name="Items">One per job sent.</param>
public sealed record ConvolutionBatchResponse(int Accepted, int Refused, IReadOnlyList<ConvolutionBatchItem> Items);

/// <summary>One job of a batch: queued (its id, status and links) or refused (a problem, as a single submission would have got).</summary>
/// <param name="Index">Its position in <c>jobs</c>.</param>
/// <param name="Outcome"><c>accepted</c> or <c>refused</c>.</param>
/// <param name="Id">The job's id when accepted.</param>
/// <param name="Status">The job's status when accepted (queued, or already further).</param>
/// <param name="Links">Where to follow it when accepted.</param>
/// <param name="Problem">Why it was refused: status, title and detail as <c>POST /convolutions</c> would have answered.</param>
public sealed record ConvolutionBatchItem(int Index, string Outcome, string? Id = null, JobStatus? Status = null, ConvolutionJobLinks? Links = null,
    ProblemDetails? Problem = null);

/// <summary>A job's addresses.</summary>
/// <param name="Self"><c>GET</c> it (status, timings, result summary), <c>DELETE</c> to cancel.</param>
/// <param name="Result">Its output once succeeded.</param>
public sealed record ConvolutionJobLinks(string Self, string Result)
{
    /// <summary>The links of job <paramref name="id"/>.</summary>
    public static ConvolutionJobLinks For(string id) => new($"/convolutions/{id}", $"/convolutions/{id}/result");
}
