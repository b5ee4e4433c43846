using System.Text.Json;
using System.Text.Json.Serialization;
using ConvService.Jobs;

namespace ConvService.Apis.Contracts;

/// <summary>
/// A convolution job: <c>scipy.signal.convolve2d(image, kernel, mode, boundary, fillValue)[::sy, ::sx]</c>.
/// Every field but image and kernel is optional.
/// </summary>
/// <param name="Image">The image: <c>{"data": [[...]]}</c>, <c>{"arrayId": "..."}</c> or <c>{"generate": {...}}</c>.</param>
/// <param name="Kernel">The kernel, in the same forms.</param>
/// <param name="Mode">full (default) | same | valid.</param>
/// <param name="Boundary">fill (default) | wrap | symm.</param>
/// <param name="FillValue">Padding value for boundary fill (default 0).</param>
/// <param name="Stride">1 (default), n, or [sy, sx]: keep every sy-th row and sx-th column of the output.</param>
/// <param name="Method">auto (default) | direct | fft | naive.</param>
/// <param name="Threads">Threads for this one convolution (row bands); default 1.</param>
/// <param name="NanTreatment">
/// Opt-in NaN-aware convolution with <c>astropy.convolution.convolve</c> semantics: interpolate (NaN pixels are
/// filled from their neighbours by the kernel renormalised over the valid pixels) | fill (NaN → fillValue first).
/// Then mode is same, boundary is fill | wrap | extend, and the kernel must have odd sizes.
/// </param>
/// <param name="NormalizeKernel">With nanTreatment: divide the kernel by its sum (astropy's default true).</param>
/// <param name="PreserveNan">With nanTreatment: pixels NaN in the image stay NaN in the result (default false).</param>
/// <param name="Kernels">
/// A filter bank instead of <c>kernel</c>: up to ConvService:Limits:MaxBankKernels kernels, all applied in one pass over the image,
/// one result each (the job's <c>results</c>). Their outputs must have one shape (one kernel size, or any sizes in mode same).
/// </param>
/// <param name="Operation">convolve (default, scipy.signal.convolve2d) | correlate (scipy.signal.correlate2d: the kernel is not flipped).</param>
public sealed record ConvolutionRequest(
    ArraySource? Image,
    ArraySource? Kernel,
    string? Mode = null,
    string? Boundary = null,
    double? FillValue = null,
    Stride? Stride = null,
    string? Method = null,
    int? Threads = null,
    string? NanTreatment = null,
    bool? NormalizeKernel = null,
    bool? PreserveNan = null,
    ArraySource[]? Kernels = null,
    string? Operation = null);

/// <summary>Where an input comes from: exactly one of <c>data</c>, <c>arrayId</c>, <c>generate</c>.</summary>
/// <param name="Data">Inline rows, all the same length.</param>
/// <param name="ArrayId">Id returned by <c>POST /arrays</c> (or a job result's arrayId).</param>
/// <param name="Generate">A seeded synthetic array.</param>
public sealed record ArraySource(double[][]? Data = null, string? ArrayId = null, GenerateSpec? Generate = null);

/// <summary>An output stride: a number n means [n, n].</summary>
/// <param name="Y">Row stride.</param>
/// <param name="X">Column stride.</param>
[JsonConverter(typeof(StrideJsonConverter))]
public readonly record struct Stride(int Y, int X);

/// <summary>Reads <c>n</c> or <c>[sy, sx]</c>; writes <c>[sy, sx]</c>.</summary>
public sealed class StrideJsonConverter : JsonConverter<Stride>
{
    private const string Expected = "stride must be a positive integer n or an array [sy, sx] of two positive integers";

    /// <inheritdoc />
    public override Stride Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            int n = ReadInt(ref reader);
            return new Stride(n, n);
        }
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException($"{Expected}, not {reader.TokenType}.");
        reader.Read();
        int y = ReadInt(ref reader);
        reader.Read();
        int x = ReadInt(ref reader);
        reader.Read();
        if (reader.TokenType != JsonTokenType.EndArray) throw new JsonException($"{Expected}; the array has more than two values.");
        return new Stride(y, x);
    }

    private static int ReadInt(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int value))
            throw new JsonException($"{Expected} (got {(reader.TokenType == JsonTokenType.Number ? "a non-integer or out-of-range number" : reader.TokenType.ToString())}).");
        return value;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Stride value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Y);
        writer.WriteNumberValue(value.X);
        writer.WriteEndArray();
    }
}

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
    NormalizedConvolution Request, string Method, string MethodReason, double MethodEstimateMs, string? Node, int Attempts,
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
