using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Convolution.Direct;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Tests;

/// <summary>
/// Randomised agreement between every fast path and the naive oracle, with a fixed seed so failures reproduce.
/// Shapes sweep image widths 1..40 and a few around 257 so every vector width, block size and tail is hit.
/// </summary>
public sealed class ConvolutionPropertyTests
{
    private const double ExactTolerance = 1e-12;
    private static readonly VectorTier[] AllTiers = [VectorTier.Scalar, VectorTier.V128, VectorTier.V256, VectorTier.V512];

    internal sealed record RandomCase(int Index, Array2D Image, Array2D Kernel, ConvolutionOptions Options)
    {
        public override string ToString() =>
            $"#{Index}: image {Image.Rows}×{Image.Cols}, kernel {Kernel.Rows}×{Kernel.Cols}, {Options.Mode}/{Options.Boundary}, " +
            $"fill {Options.FillValue}, stride ({Options.StrideY}, {Options.StrideX})";
    }

    internal static IEnumerable<RandomCase> Cases(int seed, int count)
    {
        var rng = new Random(seed);
        double[] fills = [0.0, 1.5, -2.0, double.NaN];
        for (int index = 0; index < count; index++)
        {
            int cols = index % 10 == 9 ? rng.Next(250, 270) : index % 40 + 1;
            int rows = rng.Next(4) == 0 ? 1 : rng.Next(1, 16);
            bool bigKernel = rng.Next(6) == 0;
            int kr = bigKernel ? rng.Next(1, rows + 6) : rng.Next(1, 8);
            int kc = bigKernel ? rng.Next(1, Math.Min(cols, 60) + 6) : rng.Next(1, 10);
            var image = RandomArray(rng, rows, cols, specials: rng.Next(10) == 0);
            var kernel = RandomArray(rng, kr, kc, specials: false);
            var options = new ConvolutionOptions(
                Mode: (ConvolutionMode)rng.Next(3),
                Boundary: (BoundaryMode)rng.Next(3),
                FillValue: rng.Next(5) == 0 ? rng.NextDouble() * 10 - 5 : fills[rng.Next(fills.Length)],
                StrideY: rng.Next(2) == 0 ? 1 : rng.Next(1, 7),
                StrideX: rng.Next(2) == 0 ? 1 : rng.Next(1, 7));
            yield return new RandomCase(index, image, kernel, options);
        }
    }

    internal static Array2D RandomArray(Random rng, int rows, int cols, bool specials)
    {
        var a = new Array2D(rows, cols);
        var d = a.Data;
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2 - 1;
        if (specials && d.Length > 0)
        {
            // One NaN or ±∞ somewhere: the masked tail lanes and the boundary tables must not spread it.
            double[] s = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
            d[rng.Next(d.Length)] = s[rng.Next(3)];
        }
        return a;
    }

    private static bool TryGeometry(RandomCase c, out ConvolutionGeometry g)
    {
        try
        {
            g = ConvolutionGeometry.Compute(c.Image.Rows, c.Image.Cols, c.Kernel.Rows, c.Kernel.Cols, c.Options);
            return true;
        }
        catch (ConvolutionRefusedException)
        {
            g = default;
            return false;
        }
    }

    [Fact]
    public void Direct_AtEveryVectorTierAndLayout_EqualsNaive()
    {
        int compared = 0;
        foreach (var c in Cases(seed: 20261130, count: 800))
        {
            if (!TryGeometry(c, out var g))
            {
                Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(c.Image, c.Kernel, c.Options with { Method = ConvolutionMethod.Direct }));
                continue;
            }
            var (image, kernel) = g.Swapped ? (c.Kernel, c.Image) : (c.Image, c.Kernel);
            var expected = Convolver.Execute(image, kernel, g, c.Options, ConvolutionMethod.Naive, default);
            foreach (var tier in AllTiers)
                foreach (bool padded in new[] { false, true })
                {
                    var actual = Convolver.Execute(image, kernel, g, c.Options, ConvolutionMethod.Direct, default, tier, padded);
                    ArrayAssert.Close(expected, actual, ExactTolerance, $"{c} [direct {tier}, {(padded ? "padded copy" : "row edges")}]");
                }
            var viaPublic = Convolver.Convolve2D(c.Image, c.Kernel, c.Options with { Method = ConvolutionMethod.Direct });
            ArrayAssert.Close(expected, viaPublic, ExactTolerance, $"{c} [direct, public entry]");
            compared++;
        }
        Assert.True(compared > 600, $"only {compared} of 800 random cases were computable");
    }

    [Fact]
    public void Direct_FourTapsWideWithStrideOne_EveryTierAndLayout_EqualsNaive()
    {
        // The written-out 4-tap pair kernel runs for q = 4, stride 1, rows in pairs and interiors of at least 4 vectors:
        // widths from 1 to past two 8-lane blocks, every mode and boundary, 1 to 7 kernel rows, a NaN in some images.
        var rng = new Random(4);
        int compared = 0;
        foreach (int cols in new[] { 1, 5, 19, 33, 70, 131 })
            foreach (int kr in new[] { 1, 2, 4, 7 })
                foreach (var mode in new[] { ConvolutionMode.Full, ConvolutionMode.Same, ConvolutionMode.Valid })
                    foreach (var boundary in new[] { BoundaryMode.Fill, BoundaryMode.Wrap, BoundaryMode.Symm })
                    {
                        var image = RandomArray(rng, rng.Next(6, 14), cols, specials: rng.Next(4) == 0);
                        var kernel = RandomArray(rng, kr, 4, specials: false);
                        var c = new RandomCase(compared, image, kernel, new ConvolutionOptions(mode, boundary, FillValue: 0.5));
                        if (!TryGeometry(c, out var g)) continue;
                        var (img, ker) = g.Swapped ? (kernel, image) : (image, kernel);
                        var expected = Convolver.Execute(img, ker, g, c.Options, ConvolutionMethod.Naive, default);
                        foreach (var tier in AllTiers)
                            foreach (bool padded in new[] { false, true })
                                ArrayAssert.Close(expected, Convolver.Execute(img, ker, g, c.Options, ConvolutionMethod.Direct, default, tier, padded),
                                    ExactTolerance, $"{c} [direct {tier}, {(padded ? "padded copy" : "row edges")}]");
                        compared++;
                    }
        Assert.True(compared > 150, $"only {compared} cases were computable");
    }

    [Fact] public void PairKernel_FourTapsWritten_IsBitIdenticalToTheLoop_Scalar() => CheckFourTapPairKernel<ScalarOps, double>();
    [Fact] public void PairKernel_FourTapsWritten_IsBitIdenticalToTheLoop_256() => CheckFourTapPairKernel<Vector256Ops, System.Runtime.Intrinsics.Vector256<double>>();
    [Fact] public void PairKernel_FourTapsWritten_IsBitIdenticalToTheLoop_512() => CheckFourTapPairKernel<Vector512Ops, System.Runtime.Intrinsics.Vector512<double>>();

    private static unsafe void CheckFourTapPairKernel<TOps, TV>() where TOps : struct, IVectorOps<TV> where TV : struct
    {
        var rng = new Random(44);
        var rows = stackalloc double*[5];
        foreach (int p in new[] { 1, 3, 4 })
        {
            const int count = 203, width = count + 8;
            var input = RandomArray(rng, p + 1, width, specials: false).Data;
            var taps = RandomArray(rng, p, 4, specials: false).Data;
            var viaLoop = new double[2 * count];
            var written = new double[2 * count];
            fixed (double* ip = input) fixed (double* kf = taps) fixed (double* o1 = viaLoop) fixed (double* o2 = written)
            {
                for (int u = 0; u <= p; u++) rows[u] = ip + u * width;
                int done1 = DirectConvolution.LanePairKernel<TOps, TV>(rows, p, kf, 4, o1, o1 + count, count, ip, ip + width);
                int done2 = DirectConvolution.LanePairKernel4<TOps, TV>(rows, p, kf, o2, o2 + count, count, null, null);
                Assert.Equal(done1, done2);
                Assert.True(done1 > 0); // both write whole blocks only; the rest stays 0 in both
            }
            Assert.Equal(viaLoop.Select(BitConverter.DoubleToInt64Bits), written.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void DirectTiers_UseTheKernelsTheyClaim()
    {
        // The lane kernel runs for stride 1, the dot kernel otherwise; the dot kernel narrows its vectors for short rows.
        Assert.Equal(VectorTiers.Widest, DirectConvolution.ChooseTier(1, 3));
        Assert.Equal(VectorTier.Scalar, DirectConvolution.ChooseTier(2, 1));
        Assert.True(DirectConvolution.ChooseTier(2, 2) <= VectorTier.V128);
        Assert.True(DirectConvolution.ChooseTier(5, 4).Lanes() <= 4);
    }

    public static TheoryData<int, int, int, int, int, int, int> ThreadCases() => new()
    {
        { 300, 257, 5, 5, 1, 1, (int)BoundaryMode.Fill },
        { 401, 263, 4, 4, 5, 5, (int)BoundaryMode.Symm },
        { 190, 131, 9, 3, 2, 3, (int)BoundaryMode.Wrap },
        { 130, 70, 1, 1, 1, 1, (int)BoundaryMode.Fill },
    };

    [Theory]
    [MemberData(nameof(ThreadCases))]
    public void Threads_GiveBitwiseIdenticalResults(int rows, int cols, int kr, int kc, int sy, int sx, int boundary)
    {
        var rng = new Random(rows * 7919 + cols);
        var image = RandomArray(rng, rows, cols, specials: false);
        var kernel = RandomArray(rng, kr, kc, specials: false);
        foreach (var method in new[] { ConvolutionMethod.Direct, ConvolutionMethod.Fft })
        {
            var options = new ConvolutionOptions(Mode: ConvolutionMode.Full, Boundary: (BoundaryMode)boundary, FillValue: 0.5,
                StrideY: sy, StrideX: sx, Method: method);
            var single = Convolver.Convolve2D(image, kernel, options);
            Assert.True(single.Rows > RowBands.BandRows, "the case must span several bands to exercise the split");
            foreach (int threads in new[] { 2, 3, 8 })
                ArrayAssert.BitwiseEqual(single, Convolver.Convolve2D(image, kernel, options with { Threads = threads }), $"{method}, {threads} threads");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Cancelled_Throws(int threads)
    {
        var image = new Array2D(200, 200);
        var kernel = new Array2D(3, 3);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Convolver.Convolve2D(image, kernel, new ConvolutionOptions(Threads: threads), cts.Token));
    }

    [Fact]
    public void ThreadsBelowOne_Refused()
    {
        var e = Assert.Throws<ConvolutionRefusedException>(() =>
            Convolver.Convolve2D(new Array2D(4, 4), new Array2D(2, 2), new ConvolutionOptions(Threads: 0)));
        Assert.Contains("Threads", e.Message);
    }
}

public sealed class LargeOutputTests
{
    [Fact]
    public void LargeOutput_EqualsNaive_AndThreadsAgree()
    {
        // 1500×1500 ⊛ 3×3 full is 1502² doubles = 18 MB: larger than the caches, in huge-page advised memory.
        var rng = new Random(11);
        var image = ConvolutionPropertyTests.RandomArray(rng, 1500, 1500, specials: false);
        var kernel = ConvolutionPropertyTests.RandomArray(rng, 3, 3, specials: false);
        var options = new ConvolutionOptions(Boundary: BoundaryMode.Symm, Method: ConvolutionMethod.Direct);
        var g = ConvolutionGeometry.Compute(1500, 1500, 3, 3, options);
        var direct = Convolver.Convolve2D(image, kernel, options);
        // The naive oracle on a few rows (top edge, middle, bottom edge): all of it would take seconds in Debug.
        var naive = new Array2D(g.OutputRows, g.OutputCols);
        foreach (int row in new[] { 0, 1, 2, 750, 751, g.OutputRows - 2, g.OutputRows - 1 })
        {
            NaiveConvolution.Run(image, kernel, g, options, naive, row, row + 1);
            for (int j = 0; j < g.OutputCols; j++)
                Assert.True(Math.Abs(naive[row, j] - direct[row, j]) <= 1e-12 * Math.Max(1, Math.Abs(naive[row, j])),
                    $"({row}, {j}): {direct[row, j]} vs naive {naive[row, j]}");
        }
        ArrayAssert.BitwiseEqual(direct, Convolver.Convolve2D(image, kernel, options with { Threads = 2 }), "2 threads");
    }
}

public sealed unsafe class VectorOpsTests
{
    private static void CheckStoreSums<TOps, TV>() where TOps : struct, IVectorOps<TV> where TV : struct
    {
        var rng = new Random(TOps.Count);
        int w = TOps.Count;
        var data = new double[4 * w];
        for (int trial = 0; trial < 200; trial++)
        {
            for (int i = 0; i < data.Length; i++) data[i] = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9));
            var sums = new double[4];
            fixed (double* d = data) fixed (double* s = sums)
            {
                TOps.StoreSums(s, TOps.Load(d), TOps.Load(d + w), TOps.Load(d + 2 * w), TOps.Load(d + 3 * w));
                for (int v = 0; v < 4; v++)
                {
                    double one = TOps.Sum(TOps.Load(d + v * w));
                    Assert.Equal(BitConverter.DoubleToInt64Bits(one), BitConverter.DoubleToInt64Bits(s[v]));
                    double exact = 0;
                    for (int l = 0; l < w; l++) exact += data[v * w + l];
                    Assert.Equal(exact, one, Math.Abs(exact) * 1e-14 + 1e-300);
                }
            }
        }
    }

    [Fact] public void StoreSums_IsBitIdenticalToSum_Scalar() => CheckStoreSums<ScalarOps, double>();
    [Fact] public void StoreSums_IsBitIdenticalToSum_128() => CheckStoreSums<Vector128Ops, System.Runtime.Intrinsics.Vector128<double>>();
    [Fact] public void StoreSums_IsBitIdenticalToSum_256() => CheckStoreSums<Vector256Ops, System.Runtime.Intrinsics.Vector256<double>>();
    [Fact] public void StoreSums_IsBitIdenticalToSum_512() => CheckStoreSums<Vector512Ops, System.Runtime.Intrinsics.Vector512<double>>();
}
