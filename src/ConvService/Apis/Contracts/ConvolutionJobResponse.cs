using System.Text.Json.Serialization;
using ConvService.Core.Convolution;
using ConvService.Model;

namespace ConvService.Apis.Contracts;

/// <summary>A convolution job as the API shows it.</summary>
/// <param name="Id">Job id.</param>
/// <param name="Status">queued | running | succeeded | failed | cancelled.</param>
/// <param name="SubmittedAt">Accepted at.</param>
/// <param name="StartedAt">First started by a worker at.</param>
/// <param name="FinishedAt">Reached its final status at.</param>
/// <param name="Request">The request, normalized: defaults filled in, inputs resolved to stored arrays.</param>
/// <param name="Method">The concrete method chosen.</param>
/// <param name="MethodReason">Why (the cost model's comparison for auto).</param>
/// <param name="MethodEstimateMs">The cost model's estimate, one thread, in ms.</param>
/// <param name="Node">Node that ran it.</param>
/// <param name="Attempts">Worker starts (more than 1 only after a crash or restart).</param>
/// <param name="Timing">Queue, compute and total times.</param>
/// <param name="Result">Result summary once succeeded (a job with one kernel).</param>
/// <param name="Error">Why it failed or was cancelled.</param>
/// <param name="Results">A filter bank's results once succeeded, one per kernel in the order sent (absent for one-kernel jobs):
/// <c>GET /convolutions/{id}/result?index=k</c> fetches one, <c>GET /convolutions/{id}/results</c> all as one .npy stack.</param>
public sealed record ConvolutionJobResponse(
    string Id, JobStatus Status, DateTimeOffset SubmittedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    NormalizedConvolution Request, ConvolutionMethod Method, string MethodReason, double MethodEstimateMs, string? Node, int Attempts,
    JobTiming Timing, JobResultSummary? Result, string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<JobResultSummary>? Results = null)
{
    /// <summary>Projects a stored record.</summary>
    public static ConvolutionJobResponse From(ConvolutionJobRecord r) => new(
        r.Id, r.Status, r.SubmittedAt, r.StartedAt, r.FinishedAt, r.Request, r.Method, r.MethodReason, r.MethodEstimateMs,
        r.Node, r.Attempts,
        new JobTiming(
            r.StartedAt is { } s ? (s - r.SubmittedAt).TotalMilliseconds : null,
            r.ComputeMs,
            r.FinishedAt is { } f ? (f - r.SubmittedAt).TotalMilliseconds : null,
            r.Stages),
        r.Result, r.Error, r.Results);
}

/// <summary>Job timings in milliseconds (null until known).</summary>
/// <param name="QueueMs">Submitted → started.</param>
/// <param name="ComputeMs">The convolution alone.</param>
/// <param name="TotalMs">Submitted → finished.</param>
/// <param name="Stages">The worker's time by stage (mark running, load inputs, convolve, summarize, store) once succeeded.</param>
public sealed record JobTiming(double? QueueMs, double? ComputeMs, double? TotalMs, JobStages? Stages = null);

/// <summary>A page of jobs, newest first.</summary>
/// <param name="Items">The jobs.</param>
/// <param name="Next">Pass as <c>after</c> for the next page; null on the last page.</param>
public sealed record ConvolutionJobPage(IReadOnlyList<ConvolutionJobResponse> Items, string? Next);
