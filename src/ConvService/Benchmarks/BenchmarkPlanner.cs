using ConvService.Apis.Contracts;
using ConvService.Core.Convolution;
using ConvService.Jobs;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.Extensions.Options;

namespace ConvService.Benchmarks;

/// <summary>
/// Turns a benchmark request into a normalized, validated plan: defaults filled in (the tutorial's experiment),
/// inputs generated or looked up and stored once, scipy refusals and limits checked, and the whole run estimated
/// against <see cref="LimitsOptions.MaxBenchmarkSeconds"/>. Nothing runs here.
/// </summary>
public sealed class BenchmarkPlanner(ConvolutionSubmitter submitter, IOptions<ConvServiceOptions> options)
{
    /// <summary>Every strategy the runner knows, in the default run order.</summary>
    public static readonly string[] KnownStrategies = ["serial", "parallel", "parallel-rows", "hangfire"];

    private static readonly string[] DefaultStrategies = ["serial", "parallel", "hangfire"];

    /// <summary>Validates and resolves a request.</summary>
    public async Task<(NormalizedBenchmark Plan, MethodChoice Choice, double EstimatedSeconds)> PrepareAsync(
        BenchmarkRequest request, string? owner, CancellationToken cancellationToken)
    {
        var limits = options.Value.Limits;
        int iterations = InRange(request.Iterations ?? 100, 1, 100_000, "iterations");
        int repetitions = InRange(request.Repetitions ?? 3, 1, 100, "repetitions");
        int warmup = InRange(request.Warmup ?? 1, 0, 10, "warmup");
        var strategies = NormalizeStrategies(request.Strategies);
        // The jobs API's own option checks (and below, its planner), so a benchmark refuses exactly what a job would;
        // checked before any input is generated.
        var settings = ConvolutionSubmitter.ParseSettings(
            new ConvolutionRequest(null, null, request.Mode, request.Boundary, request.FillValue, request.Stride ?? new Stride(5, 5), request.Method));

        var imageSpec = request.Image ?? new BenchmarkImageSpec();
        NormalizedBenchmarkImage image;
        if (imageSpec.ArrayId is not null)
        {
            if (imageSpec.Shape is not null || imageSpec.Fill is not null || imageSpec.Seed is not null)
                throw RequestRejectedException.BadRequest("'image' has an arrayId and generator fields: give either {\"arrayId\": \"...\"} or {\"shape\", \"fill\", \"seed\"}.");
            var stored = await submitter.ResolveAsync(new ArraySource(ArrayId: imageSpec.ArrayId), "image", limits.MaxImagePixels, owner, cancellationToken);
            image = new NormalizedBenchmarkImage(stored.Shape, null, null, stored.ArrayId);
        }
        else
        {
            var spec = new GenerateSpec(imageSpec.Shape ?? [3000, 3000], imageSpec.Fill ?? "zeros", imageSpec.Seed ?? 0);
            var stored = await submitter.ResolveAsync(new ArraySource(Generate: spec), "image", limits.MaxImagePixels, owner, cancellationToken);
            image = new NormalizedBenchmarkImage(stored.Shape, stored.Generate!.Fill, spec.Seed, stored.ArrayId);
        }

        var kernelSpec = request.Kernel ?? new BenchmarkKernelSpec();
        NormalizedBenchmarkKernels kernels;
        Func<Task>? generateRest = null;
        if (kernelSpec.ArrayId is not null)
        {
            if (kernelSpec.Shape is not null || kernelSpec.Fill is not null || kernelSpec.Seed is not null)
                throw RequestRejectedException.BadRequest("'kernel' has an arrayId and generator fields: give either {\"arrayId\": \"...\", \"count\": n} or {\"shape\", \"count\", \"seed\", \"fill\"}.");
            int count = InRange(kernelSpec.Count ?? 1, 1, 1024, "kernel.count");
            var stored = await submitter.ResolveAsync(new ArraySource(ArrayId: kernelSpec.ArrayId), "kernel", limits.MaxKernelPixels, owner, cancellationToken);
            kernels = new NormalizedBenchmarkKernels(stored.Shape, count, null, null, Enumerable.Repeat(stored.ArrayId, count).ToArray());
        }
        else
        {
            int count = InRange(kernelSpec.Count ?? Environment.ProcessorCount, 1, 1024, "kernel.count");
            int seed = kernelSpec.Seed ?? 0;
            string fill = RequestParsing.Word(RequestParsing.ParseFill(kernelSpec.Fill ?? "normal"));
            int[] shape = kernelSpec.Shape ?? [4, 4];
            var ids = new string[count];
            // Only filter 0 is generated before the budget check: it validates the spec and fixes the shape the plan
            // needs. The rest wait until the benchmark is known to fit, so 1024 one-megapixel filters (8 GB) of a run
            // that is refused anyway are never generated.
            var first = await submitter.ResolveAsync(new ArraySource(Generate: new GenerateSpec(shape, fill, seed)), "kernel", limits.MaxKernelPixels, owner, cancellationToken);
            ids[0] = first.ArrayId;
            shape = first.Shape;
            kernels = new NormalizedBenchmarkKernels(shape, count, seed, fill, ids);
            generateRest = async () =>
            {
                for (int i = 1; i < count; i++)
                {
                    // Filter i uses seed + i, as the tutorial draws num_cpus independent normal filters.
                    var stored = await submitter.ResolveAsync(new ArraySource(Generate: new GenerateSpec(shape, fill, unchecked(seed + i))), "kernel", limits.MaxKernelPixels, owner, cancellationToken);
                    ids[i] = stored.ArrayId;
                }
            };
        }

        var jobShape = settings.For(
            new ArrayReference(image.ArrayId, image.Shape, "arrayId"), new ArrayReference(kernels.ArrayIds[0], kernels.Shape, "arrayId"));
        var choice = submitter.Plan(jobShape);

        var plan = new NormalizedBenchmark(image, kernels, iterations, jobShape.Mode, jobShape.Boundary, jobShape.FillValue,
            jobShape.Stride, jobShape.Method, strategies, repetitions, warmup);
        double estimatedSeconds = choice.EstimatedMs * plan.ConvolutionsPerRun * (repetitions + warmup) * strategies.Length / 1000.0;
        if (estimatedSeconds > limits.MaxBenchmarkSeconds)
            throw RequestRejectedException.Unprocessable(
                $"This benchmark is estimated at {estimatedSeconds:F0} s of compute ({plan.ConvolutionsPerRun:N0} convolutions × {repetitions + warmup} rounds × {strategies.Length} strategies, " +
                $"~{choice.EstimatedMs:G3} ms each with method {RequestParsing.Word(choice.Method)}), over the budget of {limits.MaxBenchmarkSeconds:N0} s " +
                "(ConvService:Limits:MaxBenchmarkSeconds). Lower iterations, repetitions or the image size, use a larger stride, or run fewer strategies.");

        // Image and filters stay pinned in the array store for the whole run, so together they must fit its budget.
        long inputBytes = ((long)image.Shape[0] * image.Shape[1] + (long)kernels.Count * kernels.Shape[0] * kernels.Shape[1]) * sizeof(double);
        if (kernels.Seed is not null && inputBytes > limits.ArrayStoreBytes / 2)
            throw RequestRejectedException.Unprocessable(
                $"The image and {kernels.Count} generated filters need {inputBytes:N0} bytes, over half the array store ({limits.ArrayStoreBytes:N0} bytes, " +
                "ConvService:Limits:ArrayStoreBytes), which must also hold results. Use fewer or smaller filters, or a smaller image.");

        if (generateRest is not null) await generateRest();
        return (plan, choice, estimatedSeconds);
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

    private static string[] NormalizeStrategies(string[]? requested)
    {
        if (requested is null) return DefaultStrategies;
        if (requested.Length == 0) throw RequestRejectedException.BadRequest($"'strategies' is empty: name at least one of {string.Join(", ", KnownStrategies)}.");
        var seen = new List<string>();
        for (int i = 0; i < requested.Length; i++)
        {
            var s = requested[i];
            if (s is null)
                throw RequestRejectedException.BadRequest($"'strategies[{i}]' is null: name one of {string.Join(", ", KnownStrategies)}.");
            if (Array.IndexOf(KnownStrategies, s) < 0)
                throw RequestRejectedException.BadRequest($"Unknown strategy '{s}': use {string.Join(", ", KnownStrategies)}.");
            if (seen.Contains(s)) throw RequestRejectedException.BadRequest($"Strategy '{s}' is listed twice.");
            seen.Add(s);
        }
        return seen.ToArray();
    }

    private static int InRange(int value, int min, int max, string name)
    {
        if (value < min || value > max) throw RequestRejectedException.BadRequest($"'{name}' {value} is out of range: use {min} to {max}.");
        return value;
    }
}
