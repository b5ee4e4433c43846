using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Npy;

namespace ConvService.Benchmarks;

/// <summary>
/// <c>--compare --image a.npy --kernel k.npy [--mode full] [--boundary fill] [--fill 0] [--stride 5 5]
/// [--method auto] [--threads 1] [--repeat 7] [--min-warmup-ms 2000] [--output fresh|reused] [--out result.npy] [--interactive]</c>:
/// times one convolution as the median of <c>--repeat</c> samples after a warm-up, and prints one JSON object;
/// with <c>--interactive</c> it prints a JSON "ready" line after the warm-up, then answers each "sample" line
/// on stdin with one sample's milliseconds per call, and writes <c>--out</c> when stdin ends.
/// A sample is a batch of calls long enough (≥ 20 ms) that the timer's resolution does not matter for small cases.
/// <c>--output fresh</c> (the default) times <c>Convolve2D</c> returning a new array per call; <c>reused</c> times the
/// overload that writes into one caller-owned array, as a loop over many convolutions would (and as OpenCV's
/// <c>dst=</c> does on the python side). <c>--kernel</c> given several times times a filter bank (the bank overload of
/// <c>Convolve2D</c>, one pass over the image for all kernels, into fresh or reused outputs); <c>--out</c> then holds the
/// (kernels, rows, cols) stack.
/// </summary>
internal static class CompareMode
{
    public static int Run(string[] args)
    {
        string? imagePath = null, outPath = null;
        var kernelPaths = new List<string>();
        var options = ConvolutionOptions.Default;
        int repeat = 7;
        bool interactive = false, reuseOutput = false;
        double minWarmupMs = 2000; // tiered JIT needs ~1-2 s (under load) before small cases run optimised code
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => args[++i];
            switch (args[i])
            {
                case "--image": imagePath = Next(); break;
                case "--kernel": kernelPaths.Add(Next()); break;
                case "--out": outPath = Next(); break;
                case "--mode": options = options with { Mode = Enum.Parse<ConvolutionMode>(Next(), true) }; break;
                case "--boundary": options = options with { Boundary = Enum.Parse<BoundaryMode>(Next(), true) }; break;
                case "--fill": options = options with { FillValue = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--stride": options = options with { StrideY = int.Parse(Next()), StrideX = int.Parse(Next()) }; break;
                case "--method": options = options with { Method = Enum.Parse<ConvolutionMethod>(Next(), true) }; break;
                case "--threads": options = options with { Threads = int.Parse(Next()) }; break;
                case "--repeat": repeat = int.Parse(Next()); break;
                case "--interactive": interactive = true; break;
                case "--output":
                    string kind = Next();
                    if (kind is not ("fresh" or "reused")) { Console.Error.WriteLine("--output is fresh or reused"); return 2; }
                    reuseOutput = kind == "reused";
                    break;
                case "--min-warmup-ms": minWarmupMs = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        if (imagePath is null || kernelPaths.Count == 0) { Console.Error.WriteLine("--image and --kernel are required"); return 2; }

        var image = ReadNpy(imagePath);
        var kernels = kernelPaths.ConvertAll(ReadNpy).ToArray();
        var kernel = kernels[0];
        bool bank = kernels.Length > 1;
        var choice = Convolver.Plan(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
        var geometry = ConvolutionGeometry.Compute(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
        var features = CostModel.Features(geometry, options.Boundary);
        var reused = reuseOutput ? Array2D.CreateUninitialized(geometry.OutputRows, geometry.OutputCols) : null;
        var bankOutputs = bank ? Array.ConvertAll(kernels, _ => Array2D.CreateUninitialized(geometry.OutputRows, geometry.OutputCols)) : null;
        void Call()
        {
            if (bank)
            {
                if (!reuseOutput)
                    for (int k = 0; k < kernels.Length; k++) bankOutputs![k] = Array2D.CreateUninitialized(geometry.OutputRows, geometry.OutputCols);
                Convolver.Convolve2D(image, kernels, options, bankOutputs!);
            }
            else if (reused is null) Convolver.Convolve2D(image, kernel, options);
            else Convolver.Convolve2D(image, kernel, options, reused);
        }
        void WriteOut()
        {
            if (outPath is null) return;
            if (!bank)
            {
                WriteNpy(outPath, Convolver.Convolve2D(image, kernel, options));
                return;
            }
            Call();
            using var stream = File.Create(outPath);
            NpyCodec.WriteStackAsync(stream, bankOutputs!).GetAwaiter().GetResult();
        }

        // Warm-up: run until tiered JIT has promoted the hot loops (at least 3 calls and minWarmupMs).
        // Results are dropped at once, as the python side drops its own, so neither keeps two outputs alive.
        var clock = Stopwatch.StartNew();
        int warmupCalls = 0;
        while (warmupCalls < 3 || clock.Elapsed.TotalMilliseconds < minWarmupMs)
        {
            Call();
            warmupCalls++;
        }
        double oneCallMs = clock.Elapsed.TotalMilliseconds / warmupCalls;
        int batch = Math.Max(1, (int)Math.Ceiling(20.0 / Math.Max(oneCallMs, 1e-6)));

        if (interactive)
        {
            // One sample per "sample" line on stdin, so the caller can interleave its own samples with ours and
            // both sides see the same load on a shared machine.
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ready"] = true, ["method"] = choice.Method.ToString().ToLowerInvariant(), ["reason"] = choice.Reason,
                ["output"] = reuseOutput ? "reused" : "fresh", ["kernels"] = kernels.Length,
                ["estimated_ms"] = choice.EstimatedMs, ["calls_per_sample"] = batch,
            }));
            while (Console.ReadLine() is { } line && line.Trim() == "sample")
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int b = 0; b < batch; b++) Call();
                Console.WriteLine(Stopwatch.GetElapsedTime(t0).TotalMilliseconds / batch);
            }
            WriteOut();
            return 0;
        }

        var samples = new double[repeat];
        for (int s = 0; s < repeat; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int b = 0; b < batch; b++) Call();
            samples[s] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / batch;
        }
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        WriteOut();

        var json = new Dictionary<string, object>
        {
            ["method"] = choice.Method.ToString().ToLowerInvariant(),
            ["reason"] = choice.Reason,
            ["estimated_ms"] = choice.EstimatedMs,
            ["median_ms"] = sorted[repeat / 2],
            ["min_ms"] = sorted[0],
            ["samples_ms"] = samples,
            ["calls_per_sample"] = batch,
            ["output_shape"] = new[] { geometry.OutputRows, geometry.OutputCols },
            ["features"] = new Dictionary<string, double>
            {
                ["multiply_adds"] = features.MultiplyAdds, ["input_bytes"] = features.InputBytes, ["row_taps"] = features.RowTaps,
                ["outputs"] = geometry.OutputLength, ["fft_units"] = features.FftUnits, ["fft_elements"] = features.FftElements,
                ["stride_x"] = geometry.StrideX,
            },
            ["vector512"] = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated,
            ["vector256"] = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated,
        };
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    private static Array2D ReadNpy(string path)
    {
        using var stream = File.OpenRead(path);
        return NpyCodec.Read(stream, long.MaxValue);
    }

    private static void WriteNpy(string path, Array2D array)
    {
        using var stream = File.Create(path);
        NpyCodec.Write(stream, array);
    }
}
