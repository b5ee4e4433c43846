using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Convolution.Direct;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Tests;

/// <summary>
/// The fused filter-bank kernel (<see cref="DirectConvolution.RunFusedRows"/>: kernels whose taps fit one vector share
/// each output's input loads): against the naive oracle, and bit for bit against one single-kernel call per kernel,
/// over bank sizes 1..9 (groups of four, two and one), image sizes 1..40 and a few past the padded-copy limit, strides
/// 1..6, kernels 1..5, every mode, boundary and operation, with NaN/±∞ in some images and fills.
/// </summary>
public sealed class FusedBankTests
{
    private const double ExactTolerance = 1e-12;
    private static readonly VectorTier[] AllTiers = [VectorTier.Scalar, VectorTier.V128, VectorTier.V256, VectorTier.V512];

    [Fact]
    public void Convolve2DBank_RandomBanksOverSizesStridesAndModes_MatchNaiveAndSingleCallsBitwise()
    {
        var rng = new Random(14);
        double[] fills = [0.0, 1.5, -2.0, double.NaN];
        int compared = 0, fusedCases = 0;
        for (int index = 0; index < 700; index++)
        {
            bool large = index % 25 == 24; // past the padded-copy limit: per-row edges and the in-place interior
            int rows = large ? rng.Next(180, 230) : rng.Next(1, 41), cols = large ? rng.Next(180, 260) : index % 40 + 1;
            int kr = rng.Next(1, 6), kc = rng.Next(1, 6), count = rng.Next(1, 10);
            var options = new ConvolutionOptions(
                Mode: (ConvolutionMode)rng.Next(3),
                Boundary: (BoundaryMode)rng.Next(3),
                FillValue: fills[rng.Next(fills.Length)],
                StrideY: rng.Next(1, 7), StrideX: rng.Next(1, 7),
                Method: ConvolutionMethod.Direct,
                Threads: rng.Next(1, 4),
                Operation: (ConvolutionOperation)rng.Next(2));
            (int Rows, int Cols) shape;
            try
            {
                shape = Convolver.OutputShape(rows, cols, kr, kc, options);
            }
            catch (ConvolutionRefusedException)
            {
                continue;
            }
            var image = ConvolutionPropertyTests.RandomArray(rng, rows, cols, specials: rng.Next(3) == 0);
            // Mostly one size (they fuse); in mode same sometimes mixed sizes, which group only by equal geometry.
            bool mixed = options.Mode == ConvolutionMode.Same && rng.Next(3) == 0;
            var kernels = new Array2D[count];
            for (int k = 0; k < count; k++)
                kernels[k] = ConvolutionPropertyTests.RandomArray(rng, mixed ? rng.Next(1, 6) : kr, mixed ? rng.Next(1, 6) : kc, specials: false);
            var outputs = Array.ConvertAll(kernels, _ => Array2D.CreateUninitialized(shape.Rows, shape.Cols));
            Convolver.Convolve2D(image, kernels, options, outputs);
            string context = $"#{index}: image {rows}×{cols}, {count} kernels {kr}×{kc}{(mixed ? " mixed" : "")}, {options.Mode}/{options.Boundary}/" +
                $"{options.Operation}, fill {options.FillValue}, stride ({options.StrideY}, {options.StrideX}), threads {options.Threads}";
            for (int k = 0; k < count; k++)
            {
                var naive = Convolver.Convolve2D(image, kernels[k], options with { Method = ConvolutionMethod.Naive, Threads = 1 });
                ArrayAssert.Close(naive, outputs[k], ExactTolerance, $"{context}, kernel {k} vs naive");
                ArrayAssert.BitwiseEqual(Convolver.Convolve2D(image, kernels[k], options with { Threads = 1 }), outputs[k],
                    $"{context}, kernel {k} vs single call");
            }
            compared++;
            if (options.StrideX > 1 && count > 1 && !mixed) fusedCases++;
        }
        Assert.True(compared > 500, $"only {compared} banks compared");
        Assert.True(fusedCases > 250, $"only {fusedCases} banks reached the fused kernel");
    }

    [Fact]
    public void RunFusedRows_EveryTierAndLayout_BitIdenticalToEachRunnersOwnRows()
    {
        var rng = new Random(41);
        int checkedGroups = 0;
        foreach (var tier in AllTiers)
            foreach (bool padded in new[] { false, true })
                for (int kc = 1; kc <= 9; kc++)
                    foreach (var boundary in Enum.GetValues<BoundaryMode>())
                    {
                        int rows = rng.Next(5, 30), cols = rng.Next(kc, 45), kr = rng.Next(1, 6), count = rng.Next(1, 10);
                        var options = new ConvolutionOptions(Mode: (ConvolutionMode)rng.Next(2), Boundary: boundary,
                            FillValue: rng.Next(4) == 0 ? double.NaN : 0.25, StrideY: rng.Next(1, 4), StrideX: rng.Next(2, 7));
                        var image = ConvolutionPropertyTests.RandomArray(rng, rows, cols, specials: rng.Next(3) == 0);
                        var g = ConvolutionGeometry.Compute(rows, cols, kr, kc, options);
                        var runners = new DirectConvolution[count];
                        try
                        {
                            for (int k = 0; k < count; k++)
                                runners[k] = DirectConvolution.Prepare(image, ConvolutionPropertyTests.RandomArray(rng, kr, kc, specials: false), g, options, tier, padded);
                            if (!runners[0].Fusable) continue; // the taps do not fit one vector of this tier
                            Assert.All(runners, r => Assert.True(runners[0].SharesRowsWith(r)));
                            var fused = Array.ConvertAll(runners, _ => Array2D.CreateUninitialized(g.OutputRows, g.OutputCols));
                            // Two calls, split at an odd row, as the bands and steps split them.
                            int split = g.OutputRows / 2 | 1;
                            if (split > g.OutputRows) split = g.OutputRows;
                            DirectConvolution.RunFusedRows(runners, fused, 0, split);
                            DirectConvolution.RunFusedRows(runners, fused, split, g.OutputRows);
                            for (int k = 0; k < count; k++)
                            {
                                var own = Array2D.CreateUninitialized(g.OutputRows, g.OutputCols);
                                runners[k].RunRows(own, 0, g.OutputRows);
                                ArrayAssert.BitwiseEqual(own, fused[k],
                                    $"{tier} {(padded ? "padded" : "edges")} {boundary} image {rows}×{cols} kernel {kr}×{kc} ×{count}, kernel {k}");
                            }
                            checkedGroups++;
                        }
                        finally
                        {
                            foreach (var r in runners) r?.Dispose();
                        }
                    }
        Assert.True(checkedGroups > 60, $"only {checkedGroups} groups checked");
    }
}
