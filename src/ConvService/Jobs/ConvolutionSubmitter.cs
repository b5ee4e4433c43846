using System.Collections.Concurrent;
using ConvService.Apis.Contracts;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;
using ConvService.Http;
using ConvService.Observability;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Options;

namespace ConvService.Jobs;

/// <summary>
/// Validates a convolution request, resolves its inputs to stored arrays, records the job and enqueues it on
/// Hangfire. Every refusal happens here, before anything is queued, as a <see cref="RequestRejectedException"/>
/// (or a Core exception the problem handler maps). The benchmark's hangfire strategy enqueues through here too.
/// </summary>
public sealed class ConvolutionSubmitter(
    IJobStore jobs, IArrayStore allArrays, IBackgroundJobClient hangfire, TimeProvider time, IOptions<ConvServiceOptions> options, IJobMetrics metrics,
    ILogger<ConvolutionSubmitter> logger)
{
    private readonly LimitsOptions _limits = options.Value.Limits;

    // Generated inputs are deterministic, so a spec maps to one content id; re-generating 72 MB per request is waste.
    private static readonly ConcurrentDictionary<(int Rows, int Cols, FillKind Fill, int Seed), string> GeneratedIds = new();

    /// <summary>Validates, stores inputs, records and enqueues a job.</summary>
    /// <param name="request">The request.</param>
    /// <param name="owner">The submitting key's owner id (null without keys): the job and its inputs belong to it.</param>
    /// <param name="cancellationToken">Cancels the submission.</param>
    public async Task<ConvolutionJobRecord> SubmitAsync(ConvolutionRequest request, string? owner, CancellationToken cancellationToken)
    {
        if (request.Image is null) throw RequestRejectedException.BadRequest("Missing 'image': give {\"data\": [[...]]}, {\"arrayId\": \"...\"} or {\"generate\": {\"shape\": [rows, cols]}}.");
        if (request.Kernel is null) throw RequestRejectedException.BadRequest("Missing 'kernel': give {\"data\": [[...]]}, {\"arrayId\": \"...\"} or {\"generate\": {\"shape\": [rows, cols]}}.");
        var (normalized, choice) = await PrepareAsync(request, owner, cancellationToken);
        await EnsureQueueRoomAsync(1, cancellationToken);
        return await EnqueueAsync(normalized, choice, benchmarkId: null, owner, cancellationToken);
    }

    /// <summary>Validates options and resolves both inputs; plans the method. Nothing is enqueued.</summary>
    public async Task<(NormalizedConvolution Request, MethodChoice Choice)> PrepareAsync(ConvolutionRequest request, string? owner, CancellationToken cancellationToken)
    {
        // Options first: a misspelt mode is refused before a large inline image is stored.
        var settings = ParseSettings(request);
        var image = await ResolveAsync(request.Image!, "image", _limits.MaxImagePixels, owner, cancellationToken);
        var kernel = await ResolveAsync(request.Kernel!, "kernel", _limits.MaxKernelPixels, owner, cancellationToken);
        var normalized = settings.For(image, kernel);
        var choice = Plan(normalized);
        if (normalized.NormalizeKernel == true && await allArrays.For(owner).TryGetAsync(kernel.ArrayId, cancellationToken) is { } kernelArray)
            // Normalising needs the kernel's sum, known only from its data: refuse a zero-sum kernel now, not as a failed job.
            // (Without normalizeKernel, interpolation needs it only if the image has NaNs: the job checks that.)
            NanAwareConvolution.ValidateKernel(kernelArray, RequestParsing.ToCoreOptions(normalized, RequestParsing.Word(choice.Method)).NanAware!.Value, imageHasNan: false);
        return (normalized, choice);
    }

    /// <summary>
    /// Checks a request's options (mode, boundary, method, stride, threads, fill value) and puts them in their
    /// canonical form; the inputs are not looked at. Jobs and benchmarks both go through here.
    /// </summary>
    public static ConvolutionSettings ParseSettings(ConvolutionRequest request)
    {
        var nan = RequestParsing.ParseNanTreatment(request.NanTreatment);
        if (nan is null && (request.NormalizeKernel is not null || request.PreserveNan is not null))
            throw RequestRejectedException.BadRequest(
                $"'{(request.NormalizeKernel is not null ? "normalizeKernel" : "preserveNan")}' applies to the NaN-aware convolution only: add \"nanTreatment\": \"interpolate\" (or \"fill\"), or drop it.");
        if (nan is not null && request.Mode is not (null or "same"))
            throw RequestRejectedException.BadRequest(
                $"With nanTreatment the result has the image's shape, as astropy.convolution.convolve's has: use mode 'same' or leave mode out, not '{Echo.Clip(request.Mode, 20)}'.");
        var mode = nan is null ? RequestParsing.ParseMode(request.Mode) : ConvolutionMode.Same;
        string boundaryWord = nan is null
            ? RequestParsing.Word(RequestParsing.ParseBoundary(request.Boundary))
            : RequestParsing.Word(RequestParsing.ParseAstropyBoundary(request.Boundary));
        var method = RequestParsing.ParseMethod(request.Method);
        var stride = request.Stride ?? new Stride(1, 1);
        if (stride.Y < 1 || stride.X < 1)
            throw RequestRejectedException.BadRequest($"stride [{stride.Y}, {stride.X}] is invalid: strides must be integers ≥ 1 (1 keeps every output; 5 keeps every fifth, like [::5]).");
        int threads = request.Threads ?? 1;
        if (threads < 1 || threads > Environment.ProcessorCount)
            throw RequestRejectedException.BadRequest($"threads {threads} is invalid: use 1 to {Environment.ProcessorCount} (this node's processor count).");
        return new ConvolutionSettings(RequestParsing.Word(mode), boundaryWord, request.FillValue ?? 0.0,
            [stride.Y, stride.X], RequestParsing.Word(method), threads,
            nan is { } n ? RequestParsing.Word(n) : null, nan is null ? null : request.NormalizeKernel ?? true, nan is null ? null : request.PreserveNan ?? false);
    }

    /// <summary>Checks scipy's refusals and the output and work limits; picks the method.</summary>
    public MethodChoice Plan(NormalizedConvolution request)
    {
        var coreOptions = RequestParsing.ToCoreOptions(request, request.Method);
        int ir = request.Image.Shape[0], ic = request.Image.Shape[1], kr = request.Kernel.Shape[0], kc = request.Kernel.Shape[1];
        var geometry = ConvolutionGeometry.Compute(ir, ic, kr, kc, coreOptions); // scipy's refusals → 422
        if (geometry.OutputLength > _limits.MaxOutputPixels)
            throw RequestRejectedException.Unprocessable(
                $"The output would be {geometry.OutputRows}×{geometry.OutputCols} = {geometry.OutputLength:N0} values, over the limit of {_limits.MaxOutputPixels:N0} " +
                "(ConvService:Limits:MaxOutputPixels). Use a stride, mode 'same' or 'valid', or smaller inputs.");
        var choice = Convolver.Plan(ir, ic, kr, kc, coreOptions);
        if (choice.Method is ConvolutionMethod.Direct or ConvolutionMethod.Naive && geometry.DirectMultiplyAdds > _limits.MaxMultiplyAdds)
            throw RequestRejectedException.Unprocessable(
                $"Method '{RequestParsing.Word(choice.Method)}' would need {geometry.DirectMultiplyAdds:G3} multiply-adds, over the limit of {_limits.MaxMultiplyAdds:G3} " +
                "(ConvService:Limits:MaxMultiplyAdds). Use method 'auto' or 'fft', a smaller kernel, or a stride.");
        return choice;
    }

    /// <summary>Refuses with 429 when <paramref name="incoming"/> more jobs would exceed the queue limit.</summary>
    public async Task EnsureQueueRoomAsync(int incoming, CancellationToken cancellationToken)
    {
        int active = await jobs.CountActiveAsync(cancellationToken);
        if (active + incoming > _limits.MaxQueuedJobs)
            throw new RequestRejectedException(StatusCodes.Status429TooManyRequests, "Queue full",
                $"{active:N0} jobs are queued or running and the limit is {_limits.MaxQueuedJobs:N0} (ConvService:Limits:MaxQueuedJobs). Retry after a second, or send fewer jobs at once.",
                TimeSpan.FromSeconds(1));
    }

    /// <summary>Records a validated job, pins its inputs and enqueues it on Hangfire.</summary>
    public async Task<ConvolutionJobRecord> EnqueueAsync(NormalizedConvolution request, MethodChoice choice, string? benchmarkId, string? owner,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var record = new ConvolutionJobRecord
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            Status = JobStatus.Queued,
            SubmittedAt = now,
            Request = request,
            Method = RequestParsing.Word(choice.Method),
            MethodReason = choice.Reason,
            MethodEstimateMs = choice.EstimatedMs,
            BenchmarkId = benchmarkId,
            Owner = owner,
        };
        if (!await JobInputs.PinAsync(allArrays, request, owner))
            throw RequestRejectedException.Unprocessable("An input array was evicted from the array store while the job was being submitted; submit it again.");
        await HangfireEnqueue.CreatePinnedAsync(() => jobs.CreateAsync(record, cancellationToken).AsTask(), () => JobInputs.ReleaseAsync(allArrays, record).AsTask());
        string id = record.Id;
        string hangfireId = await HangfireEnqueue.CreateOrUndoAsync(hangfire,
            Job.FromExpression<ConvolutionJob>(j => j.RunAsync(id, CancellationToken.None)), QueueNames.Convolutions, "job",
            async () =>
            {
                await jobs.DeleteAsync(id, CancellationToken.None);
                await JobInputs.ReleaseAsync(allArrays, record);
            });
        metrics.Submitted(record.Method);
        ConvolutionJobRecord? updated = null;
        await HangfireEnqueue.TryRecordIdAsync(
            async () => (updated, _) = await jobs.UpdateAsync(id, current => current with { HangfireJobId = hangfireId }, CancellationToken.None),
            logger, "job", id);
        return updated ?? record;
    }

    /// <summary>Stores an input given inline, by id, or by generator spec.</summary>
    public async Task<ArrayReference> ResolveAsync(ArraySource source, string role, long maxPixels, string? owner, CancellationToken cancellationToken)
    {
        var arrays = allArrays.For(owner); // the owner's namespace (see OwnedArrayStore)
        int given = (source.Data is null ? 0 : 1) + (source.ArrayId is null ? 0 : 1) + (source.Generate is null ? 0 : 1);
        if (given != 1)
            throw RequestRejectedException.BadRequest(
                $"'{role}' must have exactly one of 'data', 'arrayId' or 'generate' (it has {given}).");

        if (source.ArrayId is { } id)
        {
            if (!ArrayId.IsWellFormed(id))
                throw RequestRejectedException.BadRequest($"'{role}.arrayId' '{Echo.Clip(id, 80)}' is malformed: array ids are 64 lowercase hex digits, as returned by POST /arrays.");
            var info = await arrays.TryGetInfoAsync(id, cancellationToken)
                ?? throw RequestRejectedException.Unprocessable($"'{role}.arrayId' {id} is not in the array store (unknown, deleted or evicted). Upload it again with POST /arrays.");
            CheckPixels(role, info.Shape[0], info.Shape[1], maxPixels);
            return new ArrayReference(id, info.Shape, "arrayId");
        }

        if (source.Generate is { } spec)
        {
            if (spec.Shape is not { Length: 2 } shape || shape[0] < 1 || shape[1] < 1)
                throw RequestRejectedException.BadRequest($"'{role}.generate.shape' must be [rows, cols] with both ≥ 1.");
            CheckPixels(role, shape[0], shape[1], maxPixels);
            var fill = RequestParsing.ParseFill(spec.Fill);
            var key = (shape[0], shape[1], fill, spec.Seed);
            if (GeneratedIds.TryGetValue(key, out var cached) && await arrays.TryGetInfoAsync(cached, cancellationToken) is not null)
                return new ArrayReference(cached, [shape[0], shape[1]], "generate", new GenerateSpec(shape, RequestParsing.Word(fill), spec.Seed));
            var generated = ArrayGenerator.Generate(shape[0], shape[1], fill, spec.Seed);
            var stored = await arrays.PutAsync(generated, cancellationToken);
            GeneratedIds[key] = stored.Id;
            return new ArrayReference(stored.Id, stored.Shape, "generate", new GenerateSpec(shape, RequestParsing.Word(fill), spec.Seed));
        }

        var array = FromRows(source.Data!, role, maxPixels);
        var info2 = await arrays.PutAsync(array, cancellationToken);
        return new ArrayReference(info2.Id, info2.Shape, "data");
    }

    /// <summary>Builds an array from JSON rows: non-empty, rectangular, within the pixel limit.</summary>
    public static Array2D FromRows(double[][] rows, string role, long maxPixels)
    {
        if (rows.Length == 0 || rows[0] is null || rows[0].Length == 0)
            throw RequestRejectedException.BadRequest($"'{role}.data' is empty: send a 2-D array [[...], ...] with at least one row and one column.");
        int cols = rows[0].Length;
        CheckPixels(role, rows.Length, cols, maxPixels);
        var array = Array2D.CreateUninitialized(rows.Length, cols); // every row is copied in, or the request is refused
        for (int i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            if (row is null)
                throw RequestRejectedException.BadRequest($"'{role}.data' row {i} is null: every row must be an array of numbers of the same length as row 0 ({cols}).");
            if (row.Length != cols)
                throw RequestRejectedException.BadRequest(
                    $"'{role}.data' is ragged: row {i} has {row.Length} values but row 0 has {cols}. Every row must have the same length.");
            row.CopyTo(array.Row(i));
        }
        return array;
    }

    private static void CheckPixels(string role, long rows, long cols, long maxPixels)
    {
        if (rows * cols > maxPixels)
            throw RequestRejectedException.TooLarge(
                $"'{role}' is {rows}×{cols} = {rows * cols:N0} pixels, over the limit of {maxPixels:N0} " +
                $"(ConvService:Limits:{(role == "kernel" ? "MaxKernelPixels" : "MaxImagePixels")}). Send a smaller array.");
    }

}

/// <summary>A convolution request's options, checked and in canonical words, waiting for its inputs.</summary>
public sealed record ConvolutionSettings(
    string Mode, string Boundary, double FillValue, int[] Stride, string Method, int Threads,
    string? NanTreatment = null, bool? NormalizeKernel = null, bool? PreserveNan = null)
{
    /// <summary>The normalized request for these inputs.</summary>
    public NormalizedConvolution For(ArrayReference image, ArrayReference kernel) =>
        new(image, kernel, Mode, Boundary, FillValue, Stride, Method, Threads, NanTreatment, NormalizeKernel, PreserveNan);
}
