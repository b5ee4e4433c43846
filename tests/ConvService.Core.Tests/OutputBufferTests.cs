using ConvService.Core.Arrays;
using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

/// <summary>
/// The overload that convolves into a caller-owned buffer, and the large-buffer allocation behind every array:
/// the buffer's old contents must never show through, and misuse is refused with a message.
/// </summary>
public sealed class OutputBufferTests
{
    [Fact]
    public void ConvolveInto_DirtyBuffer_EqualsFreshResult_ForEveryMethod()
    {
        int compared = 0;
        foreach (var c in ConvolutionPropertyTests.Cases(seed: 7, count: 300))
        {
            foreach (var method in new[] { ConvolutionMethod.Naive, ConvolutionMethod.Direct, ConvolutionMethod.Auto, ConvolutionMethod.Fft })
            {
                var options = c.Options with { Method = method };
                Array2D expected;
                try { expected = Convolver.Convolve2D(c.Image, c.Kernel, options); }
                catch (ConvolutionRefusedException) { continue; }
                var (rows, cols) = Convolver.OutputShape(c.Image.Rows, c.Image.Cols, c.Kernel.Rows, c.Kernel.Cols, options);
                var output = new Array2D(rows, cols);
                // Garbage a stale buffer could hold: NaN would survive any accumulate-into-output bug.
                output.Span.Fill(double.NaN);
                Convolver.Convolve2D(c.Image, c.Kernel, options, output);
                ArrayAssert.BitwiseEqual(expected, output, $"{c}, {method}");
                compared++;
            }
        }
        Assert.True(compared > 600, $"only {compared} comparisons ran");
    }

    [Fact]
    public void ConvolveInto_ReusedAcrossKernels_KeepsNothingFromTheLastCall()
    {
        var rng = new Random(11);
        var image = ConvolutionPropertyTests.RandomArray(rng, 300, 310, specials: false);
        var options = new ConvolutionOptions(Mode: ConvolutionMode.Full, StrideY: 5, StrideX: 5, Threads: 2);
        var (rows, cols) = Convolver.OutputShape(300, 310, 4, 4, options);
        var output = Array2D.CreateUninitialized(rows, cols);
        for (int i = 0; i < 4; i++)
        {
            var kernel = ConvolutionPropertyTests.RandomArray(rng, 4, 4, specials: false);
            Convolver.Convolve2D(image, kernel, options, output);
            ArrayAssert.BitwiseEqual(Convolver.Convolve2D(image, kernel, options), output, $"kernel {i}");
        }
    }

    [Fact]
    public void ConvolveInto_EmptyKernel_WritesZeros()
    {
        var output = new Array2D(3, 3);
        output.Span.Fill(7);
        Convolver.Convolve2D(new Array2D(3, 3), new Array2D(0, 2), new ConvolutionOptions(Mode: ConvolutionMode.Same), output);
        Assert.All(output.Data, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void ConvolveInto_WrongShape_IsRefusedWithTheShapeToUse()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Convolver.Convolve2D(new Array2D(10, 10), new Array2D(3, 3), ConvolutionOptions.Default, new Array2D(10, 10)));
        Assert.Contains("(12, 12)", e.Message);
        Assert.Contains("OutputShape", e.Message);
    }

    [Fact]
    public void ConvolveInto_InputAsOutput_IsRefused()
    {
        var image = new Array2D(8, 8);
        var kernel = new Array2D(1, 1);
        var e = Assert.Throws<ArgumentException>(() =>
            Convolver.Convolve2D(image, kernel, new ConvolutionOptions(Mode: ConvolutionMode.Same), image));
        Assert.Contains("in place", e.Message);
    }

    [Fact]
    public void OutputShape_RefusesWhatConvolve2DRefuses()
    {
        Assert.Throws<ConvolutionRefusedException>(() =>
            Convolver.OutputShape(3, 3, 5, 2, new ConvolutionOptions(Mode: ConvolutionMode.Valid)));
    }

    [Theory]
    [InlineData(100)]              // small-object heap
    [InlineData(20_000)]           // large-object sized, pinned
    [InlineData(3_003 * 3_003)]    // huge-page advised
    public void LargeArrays_AreZeroedAndWritable(int length)
    {
        var a = new Array2D(1, length);
        Assert.True(a.Span.IndexOfAnyExcept(0.0) < 0, "a new array must be all zeros");
        a.Span.Fill(1.5);
        Assert.Equal(1.5, a[0, length - 1]);
        var u = Array2D.CreateUninitialized(length, 1);
        Assert.Equal(length, u.Rows);
        u.Span.Fill(2.5);
        Assert.Equal(2.5, u[length - 1, 0]);
    }
}
