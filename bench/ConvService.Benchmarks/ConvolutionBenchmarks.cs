using BenchmarkDotNet.Attributes;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;

namespace ConvService.Benchmarks;

/// <summary>The shapes the README reports, one thread per convolution. Run: dotnet run -c Release --project bench/ConvService.Benchmarks -- --filter '*'.</summary>
[MemoryDiagnoser]
public class ConvolutionBenchmarks
{
    private Array2D _image3000 = null!, _kernel4 = null!, _image2000 = null!, _kernel65 = null!, _image32 = null!, _kernel3 = null!;
    private Array2D _tutorialOutput = null!, _fullOutput = null!;
    private static readonly ConvolutionOptions TutorialOptions = new(StrideY: 5, StrideX: 5);

    [GlobalSetup]
    public void Setup()
    {
        _image3000 = ArrayGenerator.RandomUniform(3000, 3000, seed: 1);
        _kernel4 = ArrayGenerator.RandomUniform(4, 4, seed: 2);
        _image2000 = ArrayGenerator.RandomUniform(2000, 2000, seed: 3);
        _kernel65 = ArrayGenerator.RandomUniform(65, 65, seed: 4);
        _image32 = ArrayGenerator.RandomUniform(32, 32, seed: 5);
        _kernel3 = ArrayGenerator.RandomUniform(3, 3, seed: 6);
        var (rows, cols) = Convolver.OutputShape(3000, 3000, 4, 4, TutorialOptions);
        _tutorialOutput = Array2D.CreateUninitialized(rows, cols);
        (rows, cols) = Convolver.OutputShape(3000, 3000, 4, 4, ConvolutionOptions.Default);
        _fullOutput = Array2D.CreateUninitialized(rows, cols);
    }

    [Benchmark(Description = "tutorial: 3000x3000 * 4x4, full, stride 5")]
    public Array2D Tutorial() => Convolver.Convolve2D(_image3000, _kernel4, TutorialOptions);

    [Benchmark(Description = "tutorial, into a reused output")]
    public Array2D TutorialIntoOutput()
    {
        Convolver.Convolve2D(_image3000, _kernel4, TutorialOptions, _tutorialOutput);
        return _tutorialOutput;
    }

    [Benchmark(Description = "3000x3000 * 4x4, full, stride 1")]
    public Array2D FullResolution() => Convolver.Convolve2D(_image3000, _kernel4, ConvolutionOptions.Default);

    [Benchmark(Description = "3000x3000 * 4x4, full, stride 1, into a reused output")]
    public Array2D FullResolutionIntoOutput()
    {
        Convolver.Convolve2D(_image3000, _kernel4, ConvolutionOptions.Default, _fullOutput);
        return _fullOutput;
    }

    [Benchmark(Description = "2000x2000 * 65x65, full, auto")]
    public Array2D Large65Auto() => Convolver.Convolve2D(_image2000, _kernel65, ConvolutionOptions.Default);

    [Benchmark(Description = "2000x2000 * 65x65, full, fft")]
    public Array2D Large65Fft() => Convolver.Convolve2D(_image2000, _kernel65, new ConvolutionOptions(Method: ConvolutionMethod.Fft));

    [Benchmark(Description = "2000x2000 * 65x65, full, direct")]
    public Array2D Large65Direct() => Convolver.Convolve2D(_image2000, _kernel65, new ConvolutionOptions(Method: ConvolutionMethod.Direct));

    [Benchmark(Description = "32x32 * 3x3, same")]
    public Array2D Small() => Convolver.Convolve2D(_image32, _kernel3, new ConvolutionOptions(Mode: ConvolutionMode.Same));
}
