using ConvService.Core.Arrays;
using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

/// <summary>
/// Filter banks (<see cref="Convolver.Convolve2D(Array2D, Array2D[], ConvolutionOptions, Array2D[], ResultDigest[], CancellationToken)"/>)
/// against scipy's fixtures, the naive oracle and, bit for bit, one single-kernel call per kernel; and correlate2d against its fixtures.
/// </summary>
public sealed class FilterBankTests
{
    private const double ExactTolerance = 1e-12;

    public static TheoryData<string, ConvolutionMethod> ConvolveRows() => Rows(ScipyFixtures.All);

    public static TheoryData<string, ConvolutionMethod> CorrelateRows() => Rows(ScipyFixtures.Correlate);

    private static TheoryData<string, ConvolutionMethod> Rows(IReadOnlyDictionary<string, ScipyCase> cases)
    {
        var rows = new TheoryData<string, ConvolutionMethod>();
        foreach (var name in cases.Keys.Order(StringComparer.Ordinal))
            foreach (var method in new[] { ConvolutionMethod.Naive, ConvolutionMethod.Direct, ConvolutionMethod.Auto })
                rows.Add(name, method);
        return rows;
    }

    [Theory]
    [MemberData(nameof(ConvolveRows))]
    public void Convolve2DBank_EveryScipyCaseAloneAndInABank_MatchesScipyAndSingleCalls(string caseName, ConvolutionMethod method) =>
        CheckCase(ScipyFixtures.All[caseName], method);

    [Theory]
    [MemberData(nameof(CorrelateRows))]
    public void Correlate2D_EveryScipyCaseSingleAndInABank_MatchesScipy(string caseName, ConvolutionMethod method) =>
        CheckCase(ScipyFixtures.Correlate[caseName], method);

    /// <summary>
    /// The case's kernel alone as a bank, then inside a bank of three (its mirror and its negation beside it, which give the
    /// same output shape): each output equals scipy and is bit-identical to the single call.
    /// </summary>
    private static void CheckCase(ScipyCase c, ConvolutionMethod method)
    {
        var options = c.Options with { Method = method };
        if (c.Refused is not null)
        {
            Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(c.Image, c.Kernel, options));
            Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(c.Image, [c.Kernel], options, [new Array2D(1, 1)]));
            return;
        }
        var single = Convolver.Convolve2D(c.Image, c.Kernel, options);
        ArrayAssert.Close(c.Expected!, single, ExactTolerance, $"{c.Name} [{method}, single]");

        var alone = new Array2D(single.Rows, single.Cols);
        var digest = new ResultDigest(single.Rows, single.Cols);
        Convolver.Convolve2D(c.Image, [c.Kernel], options, [alone], [digest]);
        ArrayAssert.BitwiseEqual(single, alone, $"{c.Name} [{method}, one-kernel bank]");
        Assert.Equal(ResultDigest.Of(single).Checksum, digest.Finish().Checksum);

        var kernels = new[] { Mirrored(c.Kernel), c.Kernel, Negated(c.Kernel) };
        var outputs = new[] { new Array2D(single.Rows, single.Cols), new Array2D(single.Rows, single.Cols), new Array2D(single.Rows, single.Cols) };
        Convolver.Convolve2D(c.Image, kernels, options with { Threads = 2 }, outputs);
        for (int k = 0; k < kernels.Length; k++)
            ArrayAssert.BitwiseEqual(Convolver.Convolve2D(c.Image, kernels[k], options), outputs[k], $"{c.Name} [{method}, bank kernel {k}]");
        ArrayAssert.Close(c.Expected!, outputs[1], ExactTolerance, $"{c.Name} [{method}, in a bank]");
    }

    [Fact]
    public void Convolve2DBank_KernelsOfDifferentSizesInSameMode_EachMatchesNaive()
    {
        var image = Random(37, 41, 1);
        Array2D[] kernels = [Random(3, 3, 2), Random(4, 4, 3), Random(1, 7, 4), Random(6, 2, 5)];
        foreach (var boundary in Enum.GetValues<BoundaryMode>())
            foreach (var operation in Enum.GetValues<ConvolutionOperation>())
            {
                var options = new ConvolutionOptions(Mode: ConvolutionMode.Same, Boundary: boundary, FillValue: 0.5, StrideY: 2, StrideX: 3,
                    Method: ConvolutionMethod.Direct, Threads: 3, Operation: operation);
                var (rows, cols) = Convolver.OutputShape(37, 41, 3, 3, options);
                var outputs = Array.ConvertAll(kernels, _ => new Array2D(rows, cols));
                Convolver.Convolve2D(image, kernels, options, outputs);
                for (int k = 0; k < kernels.Length; k++)
                    ArrayAssert.Close(Convolver.Convolve2D(image, kernels[k], options with { Method = ConvolutionMethod.Naive }), outputs[k],
                        ExactTolerance, $"{boundary} {operation} kernel {k}");
            }
    }

    [Fact]
    public void Convolve2DBank_TallImageManyBandsAndThreads_BitIdenticalToSingleCallsWithDigests()
    {
        var image = Random(300, 53, 7);
        Array2D[] kernels = [Random(4, 4, 8), Random(4, 4, 9), Random(4, 4, 10), Random(4, 4, 11), Random(4, 4, 12)];
        foreach (var (sy, sx) in new[] { (1, 1), (5, 5), (2, 1) })
        {
            var options = new ConvolutionOptions(StrideY: sy, StrideX: sx, Method: ConvolutionMethod.Direct, Threads: 4);
            var (rows, cols) = Convolver.OutputShape(300, 53, 4, 4, options);
            var outputs = Array.ConvertAll(kernels, _ => new Array2D(rows, cols));
            var digests = Array.ConvertAll(kernels, _ => new ResultDigest(rows, cols));
            Convolver.Convolve2D(image, kernels, options, outputs, digests);
            for (int k = 0; k < kernels.Length; k++)
            {
                var single = Convolver.Convolve2D(image, kernels[k], options with { Threads = 1 });
                ArrayAssert.BitwiseEqual(single, outputs[k], $"stride {sy}x{sx} kernel {k}");
                Assert.Equal(ResultDigest.Of(single).Checksum, digests[k].Finish().Checksum);
            }
        }
    }

    [Fact]
    public void Convolve2DBank_KernelsGivingDifferentShapes_RefusedBeforeWriting()
    {
        var image = Random(10, 10, 1);
        var outputs = new[] { new Array2D(12, 12), new Array2D(13, 13) };
        var e = Assert.Throws<ConvolutionRefusedException>(() =>
            Convolver.Convolve2D(image, [Random(3, 3, 2), Random(4, 4, 3)], ConvolutionOptions.Default, outputs));
        Assert.Contains("Kernel 1", e.Message);
        Assert.Contains("same", e.Message);
        Assert.All(outputs[0].Data, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Convolve2DBank_EmptyBankOrNanAware_Refused()
    {
        var image = Random(5, 5, 1);
        Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(image, [], ConvolutionOptions.Default, []));
        var nanAware = new ConvolutionOptions(Mode: ConvolutionMode.Same, NanAware: new NanAwareOptions());
        var e = Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(image, [Random(3, 3, 2)], nanAware, [new Array2D(5, 5)]));
        Assert.Contains("nanTreatment", e.Message);
    }

    [Fact]
    public void Convolve2DBank_WrongBuffers_ThrowArgumentException()
    {
        var image = Random(5, 5, 1);
        var kernel = Random(2, 2, 2);
        Assert.Throws<ArgumentException>(() => Convolver.Convolve2D(image, [kernel, kernel], ConvolutionOptions.Default, [new Array2D(6, 6)]));
        Assert.Throws<ArgumentException>(() => Convolver.Convolve2D(image, [kernel], ConvolutionOptions.Default, [new Array2D(5, 5)]));
        var shared = new Array2D(6, 6);
        Assert.Throws<ArgumentException>(() => Convolver.Convolve2D(image, [kernel, kernel], ConvolutionOptions.Default, [shared, shared]));
    }

    private static Array2D Mirrored(Array2D a)
    {
        var m = new Array2D(a.Rows, a.Cols);
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < a.Cols; j++) m[i, j] = a[i, a.Cols - 1 - j];
        return m;
    }

    private static Array2D Negated(Array2D a)
    {
        var m = new Array2D(a.Rows, a.Cols);
        for (int i = 0; i < a.Data.Length; i++) m.Data[i] = -a.Data[i];
        return m;
    }

    private static Array2D Random(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var a = new Array2D(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble() * 2 - 1;
        return a;
    }
}
