using System.Diagnostics;
using System.Globalization;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Gpu;

namespace ConvService.Benchmarks;

/// <summary>
/// <c>--gpu [--device cuda|cpu] [--size N] [--filters K] [--repeat R]</c>: the GPU method's figures for issue #18 on the
/// tutorial's shapes, inputs resident on the device: one 4×4 kernel (full, stride 5) and a bank of K 4×4 kernels
/// (full, stride 1), launch time alone and with the copies, and the largest difference from the CPU direct method.
/// Prints one line per case; <c>scripts/gpu-check.sh</c> runs it on a machine with a GPU.
/// </summary>
internal static class GpuMode
{
    public static int Run(string[] args)
    {
        string device = Arg(args, "--device", "cuda");
        int size = int.Parse(Arg(args, "--size", "3000"), CultureInfo.InvariantCulture);
        int filters = int.Parse(Arg(args, "--filters", "16"), CultureInfo.InvariantCulture);
        int repeat = int.Parse(Arg(args, "--repeat", "30"), CultureInfo.InvariantCulture);
        using var gpu = device == "cpu" ? GpuConvolver.CreateCpu(8L << 30) : GpuConvolver.TryCreateCuda(8L << 30);
        if (gpu is null)
        {
            Console.WriteLine("no CUDA device: nothing to measure (GpuConvolver.Discover() found " +
                string.Join(", ", GpuConvolver.Discover().Select(a => $"{a.Type} {a.Name}")) + ")");
            return 2;
        }
        Console.WriteLine($"device: {gpu.Device.Type} {gpu.Device.Name}, {gpu.Device.MemoryBytes >> 20} MiB; image {size}x{size}, {repeat} launches per case");
        var rng = new Random(2026);
        var image = Fill(rng, size, size);
        var kernels = Enumerable.Range(0, filters).Select(_ => Fill(rng, 4, 4)).ToArray();
        Case(gpu, "seed convolution (4x4, full, stride 5)", image, [kernels[0]], new ConvolutionOptions(StrideY: 5, StrideX: 5, Method: ConvolutionMethod.Direct), repeat);
        Case(gpu, $"bank of {filters} 4x4 kernels (full, stride 1)", image, kernels, new ConvolutionOptions(Method: ConvolutionMethod.Direct), repeat);
        Case(gpu, $"bank of {filters} 4x4 kernels (full, stride 5)", image, kernels, new ConvolutionOptions(StrideY: 5, StrideX: 5, Method: ConvolutionMethod.Direct), repeat);
        return 0;
    }

    private static void Case(GpuConvolver gpu, string name, Array2D image, Array2D[] kernels, ConvolutionOptions options, int repeat)
    {
        var (rows, cols) = Convolver.OutputShape(image.Rows, image.Cols, 4, 4, options);
        var outputs = kernels.Select(_ => Array2D.CreateUninitialized(rows, cols)).ToArray();
        var keys = kernels.Select((_, i) => $"kernel-{i}").ToArray();
        var first = gpu.Convolve2D(image, kernels, options, outputs, "image", keys); // uploads, compiles on first launch
        var launch = new List<double>();
        var total = new List<double>();
        for (int r = 0; r < repeat; r++)
        {
            long t = Stopwatch.GetTimestamp();
            var timings = gpu.Convolve2D(image, kernels, options, outputs, "image", keys);
            total.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            launch.Add(timings.KernelMs);
        }
        double maxError = 0;
        for (int k = 0; k < kernels.Length; k++)
        {
            var cpu = Convolver.Convolve2D(image, kernels[k], options);
            double scale = Math.Max(1e-300, cpu.Data.Max(Math.Abs));
            for (int i = 0; i < cpu.Data.Length; i++) maxError = Math.Max(maxError, Math.Abs(cpu.Data[i] - outputs[k].Data[i]) / scale);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: launch median {Median(launch):F3} ms (min {launch.Min():F3}), with the download {Median(total):F3} ms, first call (upload + JIT) {first.UploadMs + first.KernelMs + first.DownloadMs:F1} ms; max relative difference from the CPU direct method {maxError:E1}"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static Array2D Fill(Random rng, int rows, int cols)
    {
        var a = Array2D.CreateUninitialized(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble() * 2 - 1;
        return a;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
