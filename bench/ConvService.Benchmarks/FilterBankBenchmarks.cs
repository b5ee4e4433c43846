using BenchmarkDotNet.Attributes;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;

namespace ConvService.Benchmarks;

/// <summary>
/// A filter bank of 8 4×4 kernels on the tutorial's 3000×3000 image, full, stride 5, one thread, into reused outputs: the bank
/// reads the image once for all 8 (goal: ≤ 2.5× one kernel), against one kernel (the baseline) and 8 single calls.
/// Run: dotnet run -c Release --project bench/ConvService.Benchmarks -- --filter '*FilterBank*'.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(3)]
[IterationCount(15)]
public class FilterBankBenchmarks
{
    private const int Kernels = 8;
    private static readonly ConvolutionOptions Options = new(StrideY: 5, StrideX: 5, Method: ConvolutionMethod.Direct);
    private Array2D _image = null!;
    private Array2D[] _kernels = null!, _outputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _image = ArrayGenerator.RandomUniform(3000, 3000, seed: 1);
        var (rows, cols) = Convolver.OutputShape(3000, 3000, 4, 4, Options);
        _kernels = new Array2D[Kernels];
        _outputs = new Array2D[Kernels];
        for (int k = 0; k < Kernels; k++)
        {
            _kernels[k] = ArrayGenerator.RandomUniform(4, 4, seed: 2 + k);
            _outputs[k] = Array2D.CreateUninitialized(rows, cols);
        }
    }

    [Benchmark(Baseline = true, Description = "one 4x4 kernel, 3000x3000, full, stride 5")]
    public Array2D OneKernel()
    {
        Convolver.Convolve2D(_image, _kernels[0], Options, _outputs[0]);
        return _outputs[0];
    }

    [Benchmark(Description = "bank of 8 4x4 kernels, one pass")]
    public Array2D[] Bank()
    {
        Convolver.Convolve2D(_image, _kernels, Options, _outputs);
        return _outputs;
    }

    [Benchmark(Description = "8 single-kernel calls")]
    public Array2D[] EightCalls()
    {
        for (int k = 0; k < Kernels; k++) Convolver.Convolve2D(_image, _kernels[k], Options, _outputs[k]);
        return _outputs;
    }
}
