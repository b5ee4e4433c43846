using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Convolution.Fft;

namespace ConvService.Core.Tests;

public sealed unsafe class FftTests
{
    [Fact]
    public void ComplexFft_For_SharesPlansOfShortLengths_AndBuildsLongOnesPerCall()
    {
        Assert.Same(ComplexFft.For(2160), ComplexFft.For(2160));
        Assert.Equal(2160, ComplexFft.For(2160).Length);
        var longPlan = ComplexFft.For(65_536); // past the cached range: twiddles of request-sized lengths are not kept
        Assert.NotSame(longPlan, ComplexFft.For(65_536));
        Assert.Equal(65_536, longPlan.Length);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(8)] [InlineData(12)]
    [InlineData(15)] [InlineData(16)] [InlineData(30)] [InlineData(60)] [InlineData(64)] [InlineData(75)] [InlineData(90)]
    [InlineData(120)] [InlineData(250)] [InlineData(256)] [InlineData(270)]
    public void ComplexFft_MatchesDefinition_ForwardAndInverse(int n)
    {
        var rng = new Random(n);
        foreach (int count in new[] { 1, 2, 3, 4 })
        {
            var x = new double[2 * n * count];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
            var y = (double[])x.Clone();
            var work = new double[x.Length];
            var fft = new ComplexFft(n);
            fixed (double* py = y) fixed (double* pw = work) fft.Forward(py, pw, count);
            double tol = 1e-12 * n;
            for (int q = 0; q < count; q++)
                for (int k = 0; k < n; k++)
                {
                    double re = 0, im = 0;
                    for (int t = 0; t < n; t++)
                    {
                        double a = -2 * Math.PI * ((long)t * k % n) / n;
                        double xr = x[2 * (q + count * t)], xi = x[2 * (q + count * t) + 1];
                        re += xr * Math.Cos(a) - xi * Math.Sin(a);
                        im += xr * Math.Sin(a) + xi * Math.Cos(a);
                    }
                    Assert.True(Math.Abs(re - y[2 * (q + count * k)]) < tol && Math.Abs(im - y[2 * (q + count * k) + 1]) < tol,
                        $"n={n} count={count} q={q} k={k}: ({y[2 * (q + count * k)]}, {y[2 * (q + count * k) + 1]}) vs ({re}, {im})");
                }
            fixed (double* py = y) fixed (double* pw = work) fft.Inverse(py, pw, count);
            for (int i = 0; i < x.Length; i++) Assert.Equal(x[i], y[i] / n, 1e-12);
        }
    }

    [Theory]
    [InlineData(1, 1)] [InlineData(7, 8)] [InlineData(8, 8)] [InlineData(2063, 2160)] [InlineData(2160, 2160)] [InlineData(2161, 2187)]
    [InlineData(100, 100)] [InlineData(101, 108)] [InlineData(1 << 20, 1 << 20)]
    public void NextFastLength_IsSmallest5Smooth(int n, int expected)
    {
        Assert.Equal(expected, ComplexFft.NextFastLength(n));
        for (int m = n; m < expected; m++) Assert.False(ComplexFft.IsFastLength(m));
    }
}

public sealed class FftConvolutionPropertyTests
{
    private const double FftTolerance = 1e-10;

    [Fact]
    public void Fft_EqualsNaive_OnRandomCases()
    {
        int compared = 0;
        foreach (var c in ConvolutionPropertyTests.Cases(seed: 77, count: 500))
        {
            ConvolutionGeometry g;
            try { g = ConvolutionGeometry.Compute(c.Image.Rows, c.Image.Cols, c.Kernel.Rows, c.Kernel.Cols, c.Options); }
            catch (ConvolutionRefusedException) { continue; }
            var (image, kernel) = g.Swapped ? (c.Kernel, c.Image) : (c.Image, c.Kernel);
            bool finite = double.IsFinite(c.Options.FillValue) && FftConvolution.AllFinite(image.Data) && FftConvolution.AllFinite(kernel.Data);
            var options = c.Options with { Method = ConvolutionMethod.Fft };
            if (!finite)
            {
                // NaN/∞ would spread over the whole transform: explicit fft refuses, auto never runs it.
                Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(c.Image, c.Kernel, options));
                continue;
            }
            var expected = Convolver.Execute(image, kernel, g, c.Options, ConvolutionMethod.Naive, default);
            var actual = Convolver.Convolve2D(c.Image, c.Kernel, options);
            ArrayAssert.Close(expected, actual, FftTolerance, $"{c} [fft]");
            compared++;
        }
        Assert.True(compared > 300, $"only {compared} cases compared");
    }
}
