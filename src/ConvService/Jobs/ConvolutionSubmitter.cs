using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;
using ConvService.Model;
using ConvService.Observability;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Options;

namespace ConvService.Jobs;

/// <summary>
/// Validates a convolution request, resolves its inputs to stored arrays, records the job and enqueues it on
/// Hangfire. Every refusal happens here, before anything is queued, as a <see cref="RequestRefusedException"/>
/// (or a Core exception the problem handler maps). The benchmark's hangfire strategy enqueues through here too.
/// </summary>
public sealed class ConvolutionSubmitter(
    IJobStore jobs, IArrayStore allArrays, IBackgroundJobClient hangfire, TimeProvider time, IOptions<ConvServiceOptions> options, IJobMetrics metrics,
    INodeDirectory nodes, GeneratedArrayIds generatedIds, ILogger<ConvolutionSubmitter> logger)
{
    private readonly LimitsOptions _limits = options.Value.Limits;


    /// <summary>Validates, stores inputs, records and enqueues a job.</summary>
    /// <param name="request">The request.</param>
    /// <param name="owner">The submitting key's owner id (null without keys): the job and its inputs belong to it.</param>
    /// <param name="cancellationToken">Cancels the submission.</param>
    public async Task<ConvolutionJobRecord> SubmitAsync(ConvolutionRequest request, string? owner, CancellationToken cancellationToken)
    {
        EnsureInputsGiven(request);
        // The queue limit first: a 429 must not leave the request's inline inputs in the store.
        await EnsureQueueRoomAsync(1, cancellationToken);
        var (normalized, choice) = await PrepareAsync(request, owner, cancellationToken);
        await EnsureQueueRoomAsync(1, cancellationToken);
        return await EnqueueAsync(normalized, choice, benchmarkId: null, owner, cancellationToken);
    }

    /// <summary>Refuses a request without an image, or without exactly one of a kernel and a filter bank.</summary>
    public static void EnsureInputsGiven(ConvolutionRequest request)
    {
        if (request.Image is null) throw RequestRefusedException.Invalid("Missing 'image': give {\"data\": [[...]]}, {\"arrayId\": \"...\"} or {\"generate\": {\"shape\": [rows, cols]}}.");
        if (request.Kernel is null == request.Kernels is null)
            throw RequestRefusedException.Invalid(request.Kernel is null
                ? "Missing 'kernel': give {\"data\": [[...]]}, {\"arrayId\": \"...\"} or {\"generate\": {\"shape\": [rows, cols]}}, or a filter bank \"kernels\": [{...}, ...]."
                : "Both 'kernel' and 'kernels' are given: send one kernel as 'kernel', or a filter bank as 'kernels' (a one-element bank is fine), not both.");
    }

    /// <summary>
    /// Validates options, checks both inputs and plans the method against every limit, and only then stores the
    /// inputs, so a refused request leaves nothing in the array store. Nothing is enqueued.
    /// </summary>
    public async Task<(NormalizedConvolution Request, MethodChoice Choice)> PrepareAsync(ConvolutionRequest request, string? owner, CancellationToken cancellationToken)
    {
        // Options first: a misspelt mode is refused before a large inline image is even copied.
        var settings = ParseSettings(request);
        var image = await InspectAsync(request.Image!, "image", _limits.MaxImagePixels, owner, cancellationToken);
        var bank = await InspectBankAsync(request.Kernels, owner, cancellationToken);
        var kernel = bank?[0] ?? await InspectAsync(request.Kernel!, "kernel", _limits.MaxKernelPixels, owner, cancellationToken);
        // Output, work and FFT memory limits, and the pin budget, on shapes alone; then the inputs are stored.
        Plan(settings.For(image.Unstored, kernel.Unstored, bank?.Select(k => k.Unstored).ToArray()));
        EnsurePinRoom([image.Unstored, .. (bank ?? [kernel]).Select(k => k.Unstored)]);
        ArrayReference[]? kernels = null;
        if (bank is not null)
        {
            kernels = new ArrayReference[bank.Length];
            for (int k = 0; k < bank.Length; k++) kernels[k] = await bank[k].StoreAsync(cancellationToken);
        }
        var normalized = settings.For(await image.StoreAsync(cancellationToken), kernels?[0] ?? await kernel.StoreAsync(cancellationToken), kernels);
        var choice = Plan(normalized);
        if (normalized.NormalizeKernel == true && await allArrays.For(owner).TryGetAsync(normalized.Kernel.ArrayId, cancellationToken) is { } kernelArray)
            // Normalising needs the kernel's sum, known only from its data: refuse a zero-sum kernel now, not as a failed job.
            // (Without normalizeKernel, interpolation needs it only if the image has NaNs: the job checks that.)
            NanAwareConvolution.ValidateKernel(kernelArray, RequestParsing.ToCoreOptions(normalized, choice.Method).NanAware!.Value, imageHasNan: false);
        return (normalized, choice);
    }

    /// <summary>Checks the size of a filter bank and inspects its kernels, storing nothing (null: no bank).</summary>
    private async Task<PendingInput[]?> InspectBankAsync(ArraySource[]? sources, string? owner, CancellationToken cancellationToken)
    {
        if (sources is null) return null;
        if (sources.Length == 0)
            throw RequestRefusedException.Invalid("'kernels' is empty: a filter bank needs at least one kernel (or send one as 'kernel').");
        if (sources.Length > _limits.MaxBankKernels)
            throw RequestRefusedException.Unprocessable(
                $"'kernels' has {sources.Length:N0} kernels, over the limit of {_limits.MaxBankKernels:N0} (ConvService:Limits:MaxBankKernels). Split the bank into several jobs.");
        var kernels = new PendingInput[sources.Length];
        for (int k = 0; k < sources.Length; k++)
            kernels[k] = await InspectAsync(
                sources[k] ?? throw RequestRefusedException.Invalid($"'kernels[{k}]' is null: every kernel is {{\"data\": [[...]]}}, {{\"arrayId\": \"...\"}} or {{\"generate\": {{...}}}}."),
                $"kernels[{k}]", _limits.MaxKernelPixels, owner, cancellationToken);
        return kernels;
    }

    /// <summary>
    /// Checks a request's options (mode, boundary, method, stride, threads, fill value) and puts them in their
    /// canonical form; the inputs are not looked at. Jobs and benchmarks both go through here.
    /// </summary>
    public static ConvolutionSettings ParseSettings(ConvolutionRequest request)
    {
        var nan = RequestParsing.ParseNanTreatment(request.NanTreatment);
        if (nan is null && (request.NormalizeKernel is not null || request.PreserveNan is not null))
            throw RequestRefusedException.Invalid(
                $"'{(request.NormalizeKernel is not null ? "normalizeKernel" : "preserveNan")}' applies to the NaN-aware convolution only: add \"nanTreatment\": \"interpolate\" (or \"fill\"), or drop it.");
        if (nan is not null && request.Mode is not (null or "same"))
            throw RequestRefusedException.Invalid(
                $"With nanTreatment the result has the image's shape, as astropy.convolution.convolve's has: use mode 'same' or leave mode out, not '{Echo.Clip(request.Mode, 20)}'.");
        var operation = RequestParsing.ParseOperation(request.Operation);
        if (nan is not null && operation == ConvolutionOperation.Correlate)
            throw RequestRefusedException.Unprocessable(
                "nanTreatment follows astropy.convolution.convolve, which has no correlation: drop nanTreatment, or use operation 'convolve'.");
        if (nan is not null && request.Kernels is not null)
            throw RequestRefusedException.Unprocessable(
                "A filter bank ('kernels') cannot use nanTreatment: send each kernel as its own job with 'kernel', or drop nanTreatment.");
        var mode = nan is null ? RequestParsing.ParseMode(request.Mode) : ConvolutionMode.Same;
        var boundary = nan is null
            ? RequestParsing.ToBoundary(RequestParsing.ParseBoundary(request.Boundary))
            : RequestParsing.ToBoundary(RequestParsing.ParseAstropyBoundary(request.Boundary));
        var method = RequestParsing.ParseMethod(request.Method);
        if (method == ConvolutionMethod.Gpu && (request.Kernels is not null || operation == ConvolutionOperation.Correlate))
            // The device kernel computes convolve2d of one kernel per job here; banks and correlation run on the CPU.
            throw RequestRefusedException.Unprocessable(
                $"Method 'gpu' does not run {(request.Kernels is not null ? "filter banks ('kernels')" : "operation 'correlate'")}: use method 'direct' or 'auto'.");
        var stride = request.Stride ?? new Stride(1, 1);
        if (stride.Y < 1 || stride.X < 1)
            throw RequestRefusedException.Invalid($"stride [{stride.Y}, {stride.X}] is invalid: strides must be integers ≥ 1 (1 keeps every output; 5 keeps every fifth, like [::5]).");
        int threads = request.Threads ?? 1;
        if (threads < 1 || threads > Environment.ProcessorCount)
            throw RequestRefusedException.Invalid($"threads {threads} is invalid: use 1 to {Environment.ProcessorCount} (this node's processor count).");
        return new ConvolutionSettings(mode, boundary, request.FillValue ?? 0.0, [stride.Y, stride.X], method, threads,
            nan, nan is null ? null : request.NormalizeKernel ?? true, nan is null ? null : request.PreserveNan ?? false,
            operation == ConvolutionOperation.Correlate ? operation : null);
    }

    /// <summary>
    /// The GPU method: only when some live node serves the <c>gpu</c> queue (has a device), and never chosen by <c>auto</c>.
    /// Asked of the job storage, so in a cluster a node without a GPU still accepts GPU jobs for the nodes that have one.
    /// </summary>
    private MethodChoice PlanGpu(NormalizedConvolution request, in ConvolutionGeometry geometry, double directEstimateMs)
    {
        if (request.NanTreatment is not null)
            throw RequestRefusedException.Unprocessable("Method 'gpu' computes scipy's convolve2d; the NaN-aware convolution (nanTreatment) runs on the CPU: use method 'direct' or 'auto'.");
        int gpuWorkers = nodes.Snapshot().Nodes.Where(n => n.Alive && n.Queues.Contains(QueueNames.Gpu)).Sum(n => n.Workers);
        if (gpuWorkers == 0)
            throw RequestRefusedException.Unprocessable(
                "No node of this service has a GPU (no live node serves the 'gpu' queue), so method 'gpu' cannot run: use 'direct' or 'auto', " +
                "or start a node on a machine with a CUDA device (ConvService:Gpu:Device = cuda, the default). GET /nodes lists each node's accelerators.");
        return new MethodChoice(ConvolutionMethod.Gpu,
            $"gpu: requested, {geometry.KernelRows}×{geometry.KernelCols} kernel on {geometry.ImageRows}×{geometry.ImageCols}, {gpuWorkers} GPU worker(s); " +
            $"est. at most {directEstimateMs:0.###} ms (the CPU direct estimate)", directEstimateMs);
    }

    /// <summary>
    /// Checks scipy's refusals and the output and work limits — a filter bank's summed over its kernels — and that a bank's
    /// outputs share one shape; picks the method (a bank's: its first kernel's, each kernel is planned alike).
    /// </summary>
    public MethodChoice Plan(NormalizedConvolution request)
    {
        var coreOptions = RequestParsing.ToCoreOptions(request, request.Method);
        int ir = request.Image.Shape[0], ic = request.Image.Shape[1];
        var kernels = request.AllKernels;
        MethodChoice? first = null;
        ConvolutionGeometry firstGeometry = default;
        long outputs = 0;
        double multiplyAdds = 0;
        for (int k = 0; k < kernels.Count; k++)
        {
            int kr = kernels[k].Shape[0], kc = kernels[k].Shape[1];
            var geometry = ConvolutionGeometry.Compute(ir, ic, kr, kc, coreOptions); // scipy's refusals → 422
            var choice = coreOptions.Method == ConvolutionMethod.Gpu
                ? PlanGpu(request, geometry, Convolver.Plan(ir, ic, kr, kc, coreOptions with { Method = ConvolutionMethod.Direct }).EstimatedMs)
                : Convolver.Plan(ir, ic, kr, kc, coreOptions);
            if (choice.Method == ConvolutionMethod.Fft && Convolver.FftWorkingBytes(ir, ic, kr, kc, coreOptions) is var fftBytes && fftBytes > _limits.MaxFftBytes)
            {
                string over = $"Method 'fft' would need {fftBytes:N0} bytes of spectra for a {kr}×{kc} kernel on {ir}×{ic} " +
                    $"(the transform is as wide as image + kernel − 1), over the limit of {_limits.MaxFftBytes:N0} (ConvService:Limits:MaxFftBytes).";
                if (coreOptions.Method != ConvolutionMethod.Auto || geometry.DirectMultiplyAdds > _limits.MaxMultiplyAdds)
                    throw RequestRefusedException.Unprocessable(
                        $"{over} {(coreOptions.Method == ConvolutionMethod.Auto ? $"Method 'direct' is no option either: {geometry.DirectMultiplyAdds:G3} multiply-adds, over {_limits.MaxMultiplyAdds:G3} (ConvService:Limits:MaxMultiplyAdds). " : "")}" +
                        "Use a smaller kernel or image, mode 'valid' or a stride, or method 'direct' for small kernels.");
                // auto must not pick a plan over the limits: the direct sum fits, so it runs instead, and the reason says why.
                var direct = Convolver.Plan(ir, ic, kr, kc, coreOptions with { Method = ConvolutionMethod.Direct });
                choice = direct with { Reason = $"{direct.Reason}; fft would need {fftBytes:N0} bytes, over ConvService:Limits:MaxFftBytes" };
            }
            if (first is null)
            {
                first = choice;
                firstGeometry = geometry;
            }
            else if (geometry.OutputRows != firstGeometry.OutputRows || geometry.OutputCols != firstGeometry.OutputCols)
                throw RequestRefusedException.Unprocessable(
                    $"kernels[{k}] is {kr}×{kc} and gives a {geometry.OutputRows}×{geometry.OutputCols} output, but kernels[0] is " +
                    $"{kernels[0].Shape[0]}×{kernels[0].Shape[1]} and gives {firstGeometry.OutputRows}×{firstGeometry.OutputCols}: the kernels of one bank must give outputs of one shape. " +
                    "Use kernels of one size, mode 'same' (the image's shape whatever the kernel), or separate jobs.");
            outputs += geometry.OutputLength;
            if (choice.Method is ConvolutionMethod.Direct or ConvolutionMethod.Naive or ConvolutionMethod.Gpu) multiplyAdds += geometry.DirectMultiplyAdds;
        }
        string bank = kernels.Count > 1 ? $" for the bank's {kernels.Count} kernels together" : "";
        if (outputs > _limits.MaxOutputPixels)
            throw RequestRefusedException.Unprocessable(
                $"The output would be {(kernels.Count > 1 ? $"{kernels.Count} × " : "")}{firstGeometry.OutputRows}×{firstGeometry.OutputCols} = {outputs:N0} values, over the limit of {_limits.MaxOutputPixels:N0} " +
                "(ConvService:Limits:MaxOutputPixels). Use a stride, mode 'same' or 'valid', smaller inputs" + (kernels.Count > 1 ? ", or fewer kernels per bank." : "."));
        if (multiplyAdds > _limits.MaxMultiplyAdds)
            throw RequestRefusedException.Unprocessable(
                $"Method '{RequestParsing.Word(first!.Method)}' would need {multiplyAdds:G3} multiply-adds{bank}, over the limit of {_limits.MaxMultiplyAdds:G3} " +
                "(ConvService:Limits:MaxMultiplyAdds). Use method 'auto' or 'fft', a smaller kernel, a stride" + (kernels.Count > 1 ? ", or fewer kernels per bank." : "."));
        return first!;
    }

    /// <summary>Refuses with 429 when <paramref name="incoming"/> more jobs would exceed the queue limit.</summary>
    public async Task EnsureQueueRoomAsync(int incoming, CancellationToken cancellationToken)
    {
        int active = await jobs.CountActiveAsync(cancellationToken);
        if (active + incoming > _limits.MaxQueuedJobs)
            throw RequestRefusedException.Busy("Queue full",
                $"{active:N0} jobs are queued or running and the limit is {_limits.MaxQueuedJobs:N0} (ConvService:Limits:MaxQueuedJobs). Retry after a second, or send fewer jobs at once.",
                TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Refuses with 429 and Retry-After when pinning <paramref name="inputs"/> (those not pinned already; an empty id is
    /// an input not stored yet) would take the store's pinned bytes past <see cref="LimitsOptions.MaxPinnedFraction"/>.
    /// Only stores that count their pins (<see cref="IPinnedBytes"/>: in-memory storage) are checked.
    /// </summary>
    public void EnsurePinRoom(IReadOnlyList<ArrayReference> inputs)
    {
        if (allArrays is not IPinnedBytes store) return;
        long incoming = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            bool counted = false;
            for (int j = 0; j < i; j++) counted |= input.ArrayId.Length > 0 && inputs[j].ArrayId == input.ArrayId;
            if (!counted && (input.ArrayId.Length == 0 || !store.IsPinned(input.ArrayId)))
                incoming += (long)input.Shape[0] * input.Shape[1] * sizeof(double);
        }
        long pinned = store.PinnedBytes, max = (long)(store.BudgetBytes * _limits.MaxPinnedFraction);
        if (incoming > 0 && pinned + incoming > max)
            throw RequestRefusedException.Busy("Too much queued input",
                $"Queued and running work already holds {pinned:N0} bytes of inputs in the array store; this request's {incoming:N0} more would pass " +
                $"{max:N0} ({_limits.MaxPinnedFraction:P0} of the store, ConvService:Limits:MaxPinnedFraction). Retry when queued jobs have run, or reuse inputs already queued.",
                TimeSpan.FromSeconds(10));
    }

    /// <summary>Records a validated job, pins its inputs and enqueues it on Hangfire.</summary>
    public async Task<ConvolutionJobRecord> EnqueueAsync(NormalizedConvolution request, MethodChoice choice, string? benchmarkId, string? owner,
        CancellationToken cancellationToken)
    {
        var record = await NewPinnedRecordAsync(request, choice, benchmarkId, owner);
        await HangfireEnqueue.CreatePinnedAsync(() => jobs.CreateAsync(record, cancellationToken).AsTask(), () => JobInputs.ReleaseAsync(allArrays, record).AsTask());
        string id = record.Id;
        var (job, queue) = ConvolutionJobs.For(id, choice.Method);
        string hangfireId = await HangfireEnqueue.CreateOrUndoAsync(hangfire, job, queue, "job",
            async () =>
            {
                await jobs.DeleteAsync(id, CancellationToken.None);
                await JobInputs.ReleaseAsync(allArrays, record);
            });
        metrics.Submitted(RequestParsing.Word(record.Method));
        ConvolutionJobRecord? updated = null;
        await HangfireEnqueue.TryRecordIdAsync(
            async () => (updated, _) = await jobs.UpdateAsync(id, current => current with { HangfireJobId = hangfireId }, CancellationToken.None),
            logger, "job", id);
        return updated ?? record;
    }

    /// <summary>
    /// A new record for a validated job, queued, with its inputs pinned (not stored yet): the one place a job record is
    /// made, for single submissions, benchmarks and batches.
    /// </summary>
    public async Task<ConvolutionJobRecord> NewPinnedRecordAsync(NormalizedConvolution request, MethodChoice choice, string? benchmarkId, string? owner)
    {
        var now = time.GetUtcNow();
        var record = new ConvolutionJobRecord
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            Status = JobStatus.Queued,
            SubmittedAt = now,
            Request = request,
            Method = choice.Method,
            MethodReason = choice.Reason,
            MethodEstimateMs = choice.EstimatedMs,
            BenchmarkId = benchmarkId,
            Owner = owner,
        };
        if (!await JobInputs.PinAsync(allArrays, request, owner))
            throw RequestRefusedException.Unprocessable("An input array was evicted from the array store while the job was being submitted; submit it again.");
        return record;
    }

    /// <summary>Stores an input given inline, by id, or by generator spec.</summary>
    public async Task<ArrayReference> ResolveAsync(ArraySource source, string role, long maxPixels, string? owner, CancellationToken cancellationToken) =>
        await (await InspectAsync(source, role, maxPixels, owner, cancellationToken)).StoreAsync(cancellationToken);

    /// <summary>
    /// Checks an input given inline, by id, or by generator spec, and learns its shape, without storing or generating
    /// anything: the caller checks its limits on the shape and calls <see cref="PendingInput.StoreAsync"/> after.
    /// </summary>
    public async Task<PendingInput> InspectAsync(ArraySource source, string role, long maxPixels, string? owner, CancellationToken cancellationToken)
    {
        var arrays = allArrays.For(owner); // the owner's namespace (see OwnedArrayStore)
        int given = (source.Data is null ? 0 : 1) + (source.ArrayId is null ? 0 : 1) + (source.Generate is null ? 0 : 1);
        if (given != 1)
            throw RequestRefusedException.Invalid(
                $"'{role}' must have exactly one of 'data', 'arrayId' or 'generate' (it has {given}).");

        if (source.ArrayId is { } id)
        {
            if (!ArrayId.IsWellFormed(id))
                throw RequestRefusedException.Invalid($"'{role}.arrayId' '{Echo.Clip(id, 80)}' is malformed: array ids are 64 lowercase hex digits, as returned by POST /arrays.");
            var info = await arrays.TryGetInfoAsync(id, cancellationToken)
                ?? throw RequestRefusedException.Unprocessable($"'{role}.arrayId' {id} is not in the array store (unknown, deleted or evicted). Upload it again with POST /arrays.");
            CheckPixels(role, info.Shape[0], info.Shape[1], maxPixels);
            var reference = new ArrayReference(id, info.Shape, "arrayId");
            return new PendingInput(reference, _ => Task.FromResult(reference));
        }

        if (source.Generate is { } spec)
        {
            if (spec.Shape is not { Length: 2 } shape || shape[0] < 1 || shape[1] < 1)
                throw RequestRefusedException.Invalid($"'{role}.generate.shape' must be [rows, cols] with both ≥ 1.");
            CheckPixels(role, shape[0], shape[1], maxPixels);
            var fill = RequestParsing.ParseFill(spec.Fill);
            var normalizedSpec = new GenerateSpec(shape, RequestParsing.Word(fill), spec.Seed);
            return new PendingInput(new ArrayReference("", [shape[0], shape[1]], "generate", normalizedSpec), async ct =>
            {
                var key = new GeneratedArrayKey(shape[0], shape[1], fill, spec.Seed);
                if (generatedIds.TryGet(key, out var cached) && await arrays.TryGetInfoAsync(cached, ct) is not null)
                    return new ArrayReference(cached, [shape[0], shape[1]], "generate", normalizedSpec);
                var generated = ArrayGenerator.Generate(shape[0], shape[1], fill, spec.Seed);
                var stored = await arrays.PutAsync(generated, ct);
                generatedIds.Remember(key, stored.Id);
                return new ArrayReference(stored.Id, stored.Shape, "generate", normalizedSpec);
            });
        }

        var array = FromRows(source.Data!, role, maxPixels);
        return new PendingInput(new ArrayReference("", [array.Rows, array.Cols], "data"), async ct =>
        {
            var info2 = await arrays.PutAsync(array, ct);
            return new ArrayReference(info2.Id, info2.Shape, "data");
        });
    }

    /// <summary>Builds an array from JSON rows: non-empty, rectangular, within the pixel limit.</summary>
    public static Array2D FromRows(double[][] rows, string role, long maxPixels)
    {
        if (rows.Length == 0 || rows[0] is null || rows[0].Length == 0)
            throw RequestRefusedException.Invalid($"'{role}.data' is empty: send a 2-D array [[...], ...] with at least one row and one column.");
        int cols = rows[0].Length;
        CheckPixels(role, rows.Length, cols, maxPixels);
        var array = Array2D.CreateUninitialized(rows.Length, cols); // every row is copied in, or the request is refused
        for (int i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            if (row is null)
                throw RequestRefusedException.Invalid($"'{role}.data' row {i} is null: every row must be an array of numbers of the same length as row 0 ({cols}).");
            if (row.Length != cols)
                throw RequestRefusedException.Invalid(
                    $"'{role}.data' is ragged: row {i} has {row.Length} values but row 0 has {cols}. Every row must have the same length.");
            row.CopyTo(array.Row(i));
        }
        return array;
    }

    private static void CheckPixels(string role, long rows, long cols, long maxPixels)
    {
        if (rows * cols > maxPixels)
            throw RequestRefusedException.TooLarge(
                $"'{role}' is {rows}×{cols} = {rows * cols:N0} pixels, over the limit of {maxPixels:N0} " +
                $"(ConvService:Limits:{(role == "kernel" ? "MaxKernelPixels" : "MaxImagePixels")}). Send a smaller array.");
    }

}
