using ConvService.Core.Arrays;
using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

public sealed class PlanTests
{
    [Fact]
    public void Auto_PicksFft_ForLargeKernelsOnLargeImages()
    {
        var choice = Convolver.Plan(2000, 2000, 65, 65, ConvolutionOptions.Default);
        Assert.Equal(ConvolutionMethod.Fft, choice.Method);
        Assert.StartsWith("fft: 65×65 kernel", choice.Reason);
        Assert.Contains("vs direct", choice.Reason);
        Assert.True(choice.EstimatedMs > 0 && double.IsFinite(choice.EstimatedMs));
    }

    [Theory]
    [InlineData(3000, 3000, 4, 4, 5)]
    [InlineData(3000, 3000, 4, 4, 1)]
    [InlineData(32, 32, 3, 3, 1)]
    [InlineData(2000, 2000, 65, 65, 64)] // a stride this large leaves too few outputs to pay for a transform
    [InlineData(1, 5000, 1, 9, 1)]
    public void Auto_PicksDirect_ForSmallKernelsOrFewOutputs(int m, int n, int p, int q, int stride)
    {
        var choice = Convolver.Plan(m, n, p, q, new ConvolutionOptions(StrideY: stride, StrideX: stride));
        Assert.Equal(ConvolutionMethod.Direct, choice.Method);
        Assert.StartsWith($"direct: {p}×{q} kernel", choice.Reason);
        Assert.Contains("vs fft", choice.Reason);
    }

    [Fact]
    public void Auto_NeverPicksFft_ForANonFiniteFill()
    {
        var choice = Convolver.Plan(2000, 2000, 65, 65, new ConvolutionOptions(FillValue: double.NaN));
        Assert.Equal(ConvolutionMethod.Direct, choice.Method);
        Assert.Contains("non-finite", choice.Reason);
        Assert.Throws<ConvolutionRefusedException>(() =>
            Convolver.Plan(2000, 2000, 65, 65, new ConvolutionOptions(FillValue: double.PositiveInfinity, Method: ConvolutionMethod.Fft)));
    }

    [Fact]
    public void AutoOnNonFiniteData_FallsBackToDirect_AndExplicitFftRefuses()
    {
        // Shapes for which auto plans fft; one NaN in the image must not spread over the result.
        var rng = new Random(5);
        var image = ConvolutionPropertyTests.RandomArray(rng, 300, 300, specials: false);
        var kernel = ConvolutionPropertyTests.RandomArray(rng, 40, 40, specials: false);
        image[150, 150] = double.NaN;
        var options = new ConvolutionOptions(Mode: ConvolutionMode.Same);
        Assert.Equal(ConvolutionMethod.Fft, Convolver.Plan(300, 300, 40, 40, options).Method);
        var auto = Convolver.Convolve2D(image, kernel, options);
        // Direct is the reference here (it is checked against naive elsewhere; naive would take seconds in Debug).
        var direct = Convolver.Convolve2D(image, kernel, options with { Method = ConvolutionMethod.Direct });
        ArrayAssert.BitwiseEqual(direct, auto, "auto with a NaN pixel");
        Assert.True(double.IsNaN(auto[150, 150]));
        Assert.False(double.IsNaN(auto[0, 0]));
        var e = Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(image, kernel, options with { Method = ConvolutionMethod.Fft }));
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void Estimates_GrowWithWork()
    {
        var small = Convolver.Plan(500, 500, 5, 5, new ConvolutionOptions(Method: ConvolutionMethod.Direct));
        var large = Convolver.Plan(1000, 1000, 5, 5, new ConvolutionOptions(Method: ConvolutionMethod.Direct));
        Assert.InRange(large.EstimatedMs / small.EstimatedMs, 3.0, 5.0);
        var fftSmall = Convolver.Plan(500, 500, 50, 50, new ConvolutionOptions(Method: ConvolutionMethod.Fft));
        var fftLarge = Convolver.Plan(1000, 1000, 50, 50, new ConvolutionOptions(Method: ConvolutionMethod.Fft));
        Assert.True(fftLarge.EstimatedMs > 3 * fftSmall.EstimatedMs);
    }
}
