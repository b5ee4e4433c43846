using System.Text.Json.Serialization;

namespace ConvService.Jobs;

/// <summary>Where a job is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobStatus>))]
public enum JobStatus
{
    /// <summary>Accepted and waiting for a worker.</summary>
    Queued,
    /// <summary>A worker is computing it.</summary>
    Running,
    /// <summary>Finished; the result is stored.</summary>
    Succeeded,
    /// <summary>Finished with an error (see <c>error</c>).</summary>
    Failed,
    /// <summary>Cancelled by DELETE before it finished.</summary>
    Cancelled,
}

/// <summary>Status helpers.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for succeeded, failed and cancelled.</summary>
    public static bool IsFinished(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

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
    public required string Method { get; init; }
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

/// <summary>A convolution request after validation: defaults filled in, inputs resolved to stored arrays.</summary>
/// <param name="Image">The image as stored.</param>
/// <param name="Kernel">The kernel as stored.</param>
/// <param name="Mode">full | same | valid.</param>
/// <param name="Boundary">fill | wrap | symm.</param>
/// <param name="FillValue">Padding value for fill.</param>
/// <param name="Stride">[sy, sx].</param>
/// <param name="Method">The method asked for: auto | direct | fft | naive.</param>
/// <param name="Threads">Threads for this one convolution.</param>
/// <param name="NanTreatment">interpolate | fill for astropy's NaN-aware convolution; null (and not shown) for scipy's.</param>
/// <param name="NormalizeKernel">With NanTreatment: whether the kernel is divided by its sum.</param>
/// <param name="PreserveNan">With NanTreatment: whether NaN input pixels stay NaN.</param>
/// <param name="Kernels">A filter bank's kernels as stored, in request order (<see cref="Kernel"/> is the first); null for one-kernel jobs.</param>
/// <param name="Operation">correlate for scipy.signal.correlate2d; null (and not shown) for convolve2d.</param>
public sealed record NormalizedConvolution(
    ArrayReference Image, ArrayReference Kernel, string Mode, string Boundary, double FillValue,
    int[] Stride, string Method, int Threads,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NanTreatment = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? NormalizeKernel = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? PreserveNan = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ArrayReference[]? Kernels = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Operation = null)
{
    /// <summary>The kernels to apply: the bank's, or the one kernel.</summary>
    public IReadOnlyList<ArrayReference> AllKernels => Kernels ?? [Kernel];
}

/// <summary>A stored input.</summary>
/// <param name="ArrayId">Content id in the array store.</param>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Source">How it arrived: data | arrayId | generate.</param>
/// <param name="Generate">The generator spec when generated.</param>
public sealed record ArrayReference(string ArrayId, int[] Shape, string Source, GenerateSpec? Generate = null);

/// <summary>A seeded synthetic array.</summary>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Fill">zeros | normal | uniform.</param>
/// <param name="Seed">Seed; the same seed gives the same array on every machine (not numpy's stream).</param>
public sealed record GenerateSpec(int[]? Shape, string? Fill = "zeros", int Seed = 0);

/// <summary>Summary of a job's output.</summary>
/// <param name="Shape">[rows, cols] after stride.</param>
/// <param name="Min">Smallest value (null when empty).</param>
/// <param name="Max">Largest value (null when empty).</param>
/// <param name="Mean">Mean value (null when empty).</param>
/// <param name="Sha256">Always null for results computed by this version: results are no longer hashed with SHA-256 on the
/// job path (it cost as much as the convolution); use <paramref name="Checksum"/>. Results recorded by earlier versions keep theirs.</param>
/// <param name="ArrayId">Id of the result in the array store (usable as an input of another job); derived from the job id.</param>
/// <param name="Checksum">XXH3-128 over shape and data, computed while the convolution writes each band of rows
/// (<c>xxh128:</c> + 32 hex digits; see README "Result ids and checksums"). Equal results have equal checksums.</param>
public sealed record JobResultSummary(int[] Shape, double? Min, double? Max, double? Mean, string? Sha256, string ArrayId, string? Checksum = null);

/// <summary>A worker's time on one job, in milliseconds, stage by stage: what the job path adds to the convolution.</summary>
/// <param name="MarkRunningMs">Recording the job as running (one job-store update).</param>
/// <param name="LoadInputsMs">Fetching image and kernel from the array store.</param>
/// <param name="ConvolveMs">The convolution alone.</param>
/// <param name="SummarizeMs">The result's checksum and statistics: gathered band by band inside the convolution while each band is
/// in cache (timed there), then combined into the summary.</param>
/// <param name="StoreMs">Storing the result (in memory: an index insert, sharing the buffer of an identical computation; PostgreSQL: a copy).</param>
public sealed record JobStages(double MarkRunningMs, double LoadInputsMs, double ConvolveMs, double SummarizeMs, double StoreMs);
