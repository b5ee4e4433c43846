using System.Text.Json.Serialization;
using ConvService.Core.Convolution;

namespace ConvService.Model;

/// <summary>
/// Everything the service keeps about one convolution job. Immutable: stores replace a record
/// atomically, so readers never see half an update. Pixel data lives in the array store.
/// </summary>
public sealed record ConvolutionJobRecord
{
    /// <summary>Job id: a version-7 GUID in 32 hex digits, so ids sort by submission time.</summary>
    public required string Id { get; init; }
    /// <summary>Current status.</summary>
    public required JobStatus Status { get; init; }
    /// <summary>When the request was accepted.</summary>
    public required DateTimeOffset SubmittedAt { get; init; }
    /// <summary>When a worker first started it.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When it reached a final status.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The request with defaults filled in and inputs resolved to stored arrays.</summary>
    public required NormalizedConvolution Request { get; init; }
    /// <summary>The concrete method chosen at submission.</summary>
    public required ConvolutionMethod Method { get; init; }
    /// <summary>Why that method (the cost model's reasoning for auto).</summary>
    public required string MethodReason { get; init; }
    /// <summary>The cost model's estimate for one thread, in ms.</summary>
    public double MethodEstimateMs { get; init; }
    /// <summary>Node that ran (or is running) it.</summary>
    public string? Node { get; init; }
    /// <summary>How many times a worker started it (more than 1 only after a crash or restart).</summary>
    public int Attempts { get; init; }
    /// <summary>Pure compute time of the last attempt: the convolution alone, without the checksum that rides along it.</summary>
    public double? ComputeMs { get; init; }
    /// <summary>Where the worker's time went in the last attempt, stage by stage (null until it succeeded).</summary>
    public JobStages? Stages { get; init; }
    /// <summary>Summary of the result once succeeded (one-kernel jobs).</summary>
    public JobResultSummary? Result { get; init; }
    /// <summary>A filter bank's result summaries once succeeded, one per kernel in request order (null for one-kernel jobs).</summary>
    public IReadOnlyList<JobResultSummary>? Results { get; init; }
    /// <summary>Why it failed or was cancelled.</summary>
    public string? Error { get; init; }
    /// <summary>Hangfire's id for the background job.</summary>
    public string? HangfireJobId { get; init; }
    /// <summary>The benchmark that submitted it, if any (hidden from the plain job list).</summary>
    public string? BenchmarkId { get; init; }
    /// <summary>
    /// The owner id: a hash of the API key that submitted it (see <c>ApiKeyRing.OwnerOf</c>), never the key; null without
    /// configured keys. Only that key lists, reads, cancels or deletes the job, and its arrays live in that key's namespace.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Owner { get; init; }

    /// <summary>True when a caller whose owner id is <paramref name="owner"/> may see this job.</summary>
    public bool IsVisibleTo(string? owner) => owner is null || Owner == owner;
}
