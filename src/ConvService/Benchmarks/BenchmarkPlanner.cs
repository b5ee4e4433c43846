using System.Collections.Immutable;
using ConvService.Core.Convolution;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.Extensions.Options;

namespace ConvService.Benchmarks;

/// <summary>
/// Turns a benchmark request into a normalized, validated plan: defaults filled in (the tutorial's experiment),
/// inputs generated or looked up and stored once, scipy refusals and limits checked, and the whole run estimated
/// against <see cref="LimitsOptions.MaxBenchmarkSeconds"/>. Nothing runs here.
/// </summary>
public sealed class BenchmarkPlanner(ConvolutionSubmitter submitter, IOptions<ConvServiceOptions> options, GpuRunner gpu)
{
    /// <summary>Every strategy the runner knows, in the default run order.</summary>
    private static readonly string KnownStrategies = string.Join(", ", BenchmarkStrategies.All.Select(s => s.Word()));

    private static readonly ImmutableArray<BenchmarkStrategy> DefaultStrategies =
        [BenchmarkStrategy.Serial, BenchmarkStrategy.Parallel, BenchmarkStrategy.Fused, BenchmarkStrategy.Hangfire];

    /// <summary>Validates and resolves a request.</summary>
    public async Task<(NormalizedBenchmark Plan, MethodChoice Choice, double EstimatedSeconds)> PrepareAsync(
        BenchmarkRequest request, string? owner, CancellationToken cancellationToken)
    {
        var limits = options.Value.Limits;
        int iterations = InRange(request.Iterations ?? 100, 1, 100_000, "iterations");
        int repetitions = InRange(request.Repetitions ?? 3, 1, 100, "repetitions");
        int warmup = InRange(request.Warmup ?? 1, 0, 10, "warmup");
        var strategies = NormalizeStrategies(request.Strategies);
        if (!gpu.IsAvailable && strategies.Any(s => s is BenchmarkStrategy.Gpu or BenchmarkStrategy.GpuFused))
            throw RequestRefusedException.Unprocessable(
                "This node has no GPU, so the gpu and gpu-fused strategies cannot run (ConvService:Gpu:Device, GET /nodes lists the accelerators): " +
                "drop them, or run the benchmark on a node with a CUDA device.");
        // The jobs API's own option checks (and below, its planner), so a benchmark refuses exactly what a job would;
        // checked before any input is generated.
        var settings = ConvolutionSubmitter.ParseSettings(
            new ConvolutionRequest(null, null, request.Mode, request.Boundary, request.FillValue, request.Stride ?? new Stride(5, 5), request.Method));

        // Every input is checked and its shape learnt first; nothing is generated or stored until the whole benchmark
        // is known to fit, so a refused benchmark leaves nothing in the array store.
        var imageSpec = request.Image ?? new BenchmarkImageSpec();
        PendingInput imageInput;
        if (imageSpec.ArrayId is not null)
        {
            if (imageSpec.Shape is not null || imageSpec.Fill is not null || imageSpec.Seed is not null)
                throw RequestRefusedException.Invalid("'image' has an arrayId and generator fields: give either {\"arrayId\": \"...\"} or {\"shape\", \"fill\", \"seed\"}.");
            imageInput = await submitter.InspectAsync(new ArraySource(ArrayId: imageSpec.ArrayId), "image", limits.MaxImagePixels, owner, cancellationToken);
        }
        else
        {
            var spec = new GenerateSpec(imageSpec.Shape ?? [3000, 3000], imageSpec.Fill ?? "zeros", imageSpec.Seed ?? 0);
            imageInput = await submitter.InspectAsync(new ArraySource(Generate: spec), "image", limits.MaxImagePixels, owner, cancellationToken);
        }

        var kernelSpec = request.Kernel ?? new BenchmarkKernelSpec();
        PendingInput kernelInput;
        int count;
        int? kernelSeed = null;
        string? kernelFill = null;
        if (kernelSpec.ArrayId is not null)
        {
            if (kernelSpec.Shape is not null || kernelSpec.Fill is not null || kernelSpec.Seed is not null)
                throw RequestRefusedException.Invalid("'kernel' has an arrayId and generator fields: give either {\"arrayId\": \"...\", \"count\": n} or {\"shape\", \"count\", \"seed\", \"fill\"}.");
            count = InRange(kernelSpec.Count ?? 1, 1, 1024, "kernel.count");
            kernelInput = await submitter.InspectAsync(new ArraySource(ArrayId: kernelSpec.ArrayId), "kernel", limits.MaxKernelPixels, owner, cancellationToken);
        }
        else
        {
            count = InRange(kernelSpec.Count ?? Environment.ProcessorCount, 1, 1024, "kernel.count");
            kernelSeed = kernelSpec.Seed ?? 0;
            kernelFill = RequestParsing.Word(RequestParsing.ParseFill(kernelSpec.Fill ?? "normal"));
            kernelInput = await submitter.InspectAsync(new ArraySource(Generate: new GenerateSpec(kernelSpec.Shape ?? [4, 4], kernelFill, kernelSeed.Value)),
                "kernel", limits.MaxKernelPixels, owner, cancellationToken);
        }
        int[] imageShape = imageInput.Unstored.Shape, kernelShape = kernelInput.Unstored.Shape;

        var choice = submitter.Plan(settings.For(imageInput.Unstored, kernelInput.Unstored));
        var budget = Budget(limits, imageShape, kernelShape, count, iterations, repetitions + warmup, strategies, settings, choice);
        double estimatedSeconds = budget.Seconds;
        // Image and filters stay pinned in the array store for the whole run, so together they must fit its budget.
        long inputBytes = ((long)imageShape[0] * imageShape[1] + (long)count * kernelShape[0] * kernelShape[1]) * sizeof(double);
        if (kernelSeed is not null && inputBytes > limits.ArrayStoreBytes / 2)
            throw RequestRefusedException.Unprocessable(
                $"The image and {count} generated filters need {inputBytes:N0} bytes, over half the array store ({limits.ArrayStoreBytes:N0} bytes, " +
                "ConvService:Limits:ArrayStoreBytes), which must also hold results. Use fewer or smaller filters, or a smaller image.");

        // The generated filters all count (filter 0 stands for their shape); a filter given by id is pinned once.
        var pinned = new List<ArrayReference> { imageInput.Unstored };
        for (int i = 0; i < (kernelSeed is null ? 1 : count); i++) pinned.Add(kernelSeed is null ? kernelInput.Unstored : kernelInput.Unstored with { ArrayId = "" });
        submitter.EnsurePinRoom(pinned);

        // Within budget: now store (or generate) the image and the filters. Filter i uses seed + i, as the tutorial
        // draws num_cpus independent normal filters.
        var storedImage = await imageInput.StoreAsync(cancellationToken);
        var image = new NormalizedBenchmarkImage(storedImage.Shape, storedImage.Generate?.Fill, storedImage.Generate?.Seed, storedImage.ArrayId);
        var ids = new string[count];
        ids[0] = (await kernelInput.StoreAsync(cancellationToken)).ArrayId;
        var kernels = new NormalizedBenchmarkKernels(kernelShape, count, kernelSeed, kernelFill, ids);
        Func<Task>? generateRest = null;
        if (kernelSeed is { } seed)
            generateRest = async () =>
            {
                for (int i = 1; i < count; i++)
                {
                    var stored = await submitter.ResolveAsync(new ArraySource(Generate: new GenerateSpec(kernelShape, kernelFill!, unchecked(seed + i))), "kernel", limits.MaxKernelPixels, owner, cancellationToken);
                    ids[i] = stored.ArrayId;
                }
            };
        else
            for (int i = 1; i < count; i++) ids[i] = ids[0];

        var jobShape = settings.For(
            new ArrayReference(image.ArrayId, image.Shape, "arrayId"), new ArrayReference(kernels.ArrayIds[0], kernels.Shape, "arrayId"));
        var plan = new NormalizedBenchmark(image, kernels, iterations, jobShape.Mode, jobShape.Boundary, jobShape.FillValue,
            jobShape.Stride, jobShape.Method, strategies, repetitions, warmup);

        if (generateRest is not null) await generateRest();
        return (plan, choice, estimatedSeconds);
    }

    /// <summary>What a benchmark is estimated to cost: compute seconds (with per-job overhead), Hangfire jobs and bytes.</summary>
    public readonly record struct BenchmarkBudget(double Seconds, long HangfireJobs, long Bytes);

    /// <summary>
    /// Estimates a benchmark on every axis that can sink a node and refuses (422, naming what to shrink) what is over a
    /// limit: compute (the cost model's convolution time plus <see cref="LimitsOptions.PerJobOverheadMs"/> for every
    /// Hangfire job: 10⁸ tiny convolutions cost nothing to convolve and hours to schedule), the count of Hangfire
    /// jobs (<see cref="LimitsOptions.MaxBenchmarkJobs"/>), and memory: the pinned inputs, plus per worker one output,
    /// its digest and, for FFT, the spectra (<see cref="LimitsOptions.MaxBenchmarkBytes"/>).
    /// </summary>
    public static BenchmarkBudget Budget(LimitsOptions limits, int[] imageShape, int[] kernelShape, int kernelCount, int iterations, int rounds,
        BenchmarkStrategy[] strategies, ConvolutionSettings settings, MethodChoice choice)
    {
        long convolutionsPerRun = (long)iterations * kernelCount;
        // hangfire runs one job per convolution, hangfire-fused one per iteration (its bank holds every filter).
        long hangfireJobs = ((Array.IndexOf(strategies, BenchmarkStrategy.Hangfire) >= 0 ? convolutionsPerRun : 0)
            + (Array.IndexOf(strategies, BenchmarkStrategy.HangfireFused) >= 0 ? iterations : 0)) * rounds;
        bool hangfire = hangfireJobs > 0;
        double seconds = (choice.EstimatedMs * convolutionsPerRun * rounds * strategies.Length + hangfireJobs * limits.PerJobOverheadMs) / 1000.0;
        string what = $"{convolutionsPerRun:N0} convolutions ({iterations:N0} iterations × {kernelCount} filters) × {rounds} rounds × {strategies.Length} strategies";
        if (hangfireJobs > limits.MaxBenchmarkJobs)
            throw RequestRefusedException.Unprocessable(
                $"The hangfire strategies would enqueue {hangfireJobs:N0} jobs ({what}), over the limit of {limits.MaxBenchmarkJobs:N0} " +
                "(ConvService:Limits:MaxBenchmarkJobs). Lower iterations, kernel.count or repetitions, or drop the hangfire strategies.");
        if (seconds > limits.MaxBenchmarkSeconds)
            throw RequestRefusedException.Unprocessable(
                $"This benchmark is estimated at {seconds:F0} s ({what}, ~{choice.EstimatedMs:G3} ms each with method {RequestParsing.Word(choice.Method)}" +
                (hangfire ? $", plus {limits.PerJobOverheadMs:G3} ms of scheduling per Hangfire job (ConvService:Limits:PerJobOverheadMs)" : "") +
                $"), over the budget of {limits.MaxBenchmarkSeconds:N0} s (ConvService:Limits:MaxBenchmarkSeconds). " +
                "Lower iterations, repetitions, kernel.count or the image size, use a larger stride, or run fewer strategies.");

        var options = RequestParsing.ToCoreOptions(settings.For(new ArrayReference("", imageShape, "arrayId"), new ArrayReference("", kernelShape, "arrayId")), settings.Method);
        var (outRows, outCols) = Convolver.OutputShape(imageShape[0], imageShape[1], kernelShape[0], kernelShape[1], options);
        long perWorker = (long)outRows * outCols * sizeof(double)
            + (choice.Method == ConvolutionMethod.Fft ? Convolver.FftWorkingBytes(imageShape[0], imageShape[1], kernelShape[0], kernelShape[1], options with { Threads = 1 }) : 0);
        long inputBytes = ((long)imageShape[0] * imageShape[1] + (long)kernelCount * kernelShape[0] * kernelShape[1]) * sizeof(double);
        long bytes = inputBytes + Environment.ProcessorCount * perWorker;
        if (bytes > limits.MaxBenchmarkBytes)
            throw RequestRefusedException.Unprocessable(
                $"This benchmark needs about {bytes:N0} bytes: {inputBytes:N0} of image and {kernelCount} filters, plus {perWorker:N0} per worker " +
                $"(output{(choice.Method == ConvolutionMethod.Fft ? " and FFT spectra" : "")}) × {Environment.ProcessorCount} workers; the limit is {limits.MaxBenchmarkBytes:N0} " +
                "(ConvService:Limits:MaxBenchmarkBytes). Use fewer or smaller filters, a smaller image, or a stride.");
        return new BenchmarkBudget(seconds, hangfireJobs, bytes);
    }

    /// <summary>The convolution every benchmark run performs (with filter 0; the runner substitutes each filter).</summary>
    public static ConvolutionJobRecord JobTemplate(BenchmarkReport report)
    {
        var plan = report.Request;
        return new ConvolutionJobRecord
        {
            Id = "",
            Status = JobStatus.Queued,
            SubmittedAt = report.SubmittedAt,
            Request = new NormalizedConvolution(
                new ArrayReference(plan.Image.ArrayId, plan.Image.Shape, "arrayId"), new ArrayReference(plan.Kernel.ArrayIds[0], plan.Kernel.Shape, "arrayId"),
                plan.Mode, plan.Boundary, plan.FillValue, plan.Stride, plan.Method, 1),
            Method = report.Method,
            MethodReason = report.MethodReason,
            MethodEstimateMs = report.MethodEstimateMs,
            Owner = report.Owner, // the hangfire strategy's jobs read the benchmark's inputs from its owner's namespace
        };
    }

    private static BenchmarkStrategy[] NormalizeStrategies(string[]? requested)
    {
        if (requested is null) return [.. DefaultStrategies]; // a copy: the plan is stored and must not share a static array
        if (requested.Length == 0) throw RequestRefusedException.Invalid($"'strategies' is empty: name at least one of {KnownStrategies}.");
        var seen = new List<BenchmarkStrategy>();
        for (int i = 0; i < requested.Length; i++)
        {
            var s = requested[i];
            if (s is null)
                throw RequestRefusedException.Invalid($"'strategies[{i}]' is null: name one of {KnownStrategies}.");
            if (!BenchmarkStrategies.TryParse(s, out var strategy))
                throw RequestRefusedException.Invalid($"Unknown strategy '{s}': use {KnownStrategies}.");
            if (seen.Contains(strategy)) throw RequestRefusedException.Invalid($"Strategy '{s}' is listed twice.");
            seen.Add(strategy);
        }
        return [.. seen];
    }

    private static int InRange(int value, int min, int max, string name)
    {
        if (value < min || value > max) throw RequestRefusedException.Invalid($"'{name}' {value} is out of range: use {min} to {max}.");
        return value;
    }
}
