using ConvService.Core.Convolution;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Tests;

/// <summary>Every method against scipy 1.10.1's convolve2d(...)[::sy, ::sx], one theory row per case and method.</summary>
public sealed class ScipyFixtureTests
{
    private const double ExactTolerance = 1e-12;
    private const double FftTolerance = 1e-10;

    public static TheoryData<string, ConvolutionMethod> Rows()
    {
        var rows = new TheoryData<string, ConvolutionMethod>();
        foreach (var name in ScipyFixtures.All.Keys.Order(StringComparer.Ordinal))
            foreach (var method in new[] { ConvolutionMethod.Naive, ConvolutionMethod.Direct, ConvolutionMethod.Auto, ConvolutionMethod.Fft })
                rows.Add(name, method);
        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Convolve2D_MatchesScipy(string caseName, ConvolutionMethod method)
    {
        var c = ScipyFixtures.All[caseName];
        var options = c.Options with { Method = method };
        if (c.Refused is not null)
        {
            Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(c.Image, c.Kernel, options));
            Assert.Throws<ConvolutionRefusedException>(() => Convolver.Plan(c.Image.Rows, c.Image.Cols, c.Kernel.Rows, c.Kernel.Cols, options));
            return;
        }
        if (method == ConvolutionMethod.Fft && !double.IsFinite(c.Options.FillValue))
        {
            // A NaN fill would poison the whole transform: fft refuses it, and auto plans direct instead.
            var e = Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(c.Image, c.Kernel, options));
            Assert.Contains("fft", e.Message);
            Assert.Equal(ConvolutionMethod.Direct,
                Convolver.Plan(c.Image.Rows, c.Image.Cols, c.Kernel.Rows, c.Kernel.Cols, c.Options with { Method = ConvolutionMethod.Auto }).Method);
            return;
        }
        var actual = Convolver.Convolve2D(c.Image, c.Kernel, options);
        ArrayAssert.Close(c.Expected!, actual, method == ConvolutionMethod.Fft ? FftTolerance : ExactTolerance, $"{caseName} [{method}]");
    }

    public static TheoryData<string> ComputedCases()
    {
        var rows = new TheoryData<string>();
        foreach (var (name, c) in ScipyFixtures.All.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (c.Expected is not null) rows.Add(name); // refusals do not depend on the tier
        return rows;
    }

    [Theory]
    [MemberData(nameof(ComputedCases))]
    public void DirectAtEveryVectorTierAndLayout_MatchesScipy(string caseName)
    {
        var c = ScipyFixtures.All[caseName];
        var g = ConvolutionGeometry.Compute(c.Image.Rows, c.Image.Cols, c.Kernel.Rows, c.Kernel.Cols, c.Options);
        var (image, kernel) = g.Swapped ? (c.Kernel, c.Image) : (c.Image, c.Kernel);
        foreach (var tier in new[] { VectorTier.Scalar, VectorTier.V128, VectorTier.V256, VectorTier.V512 })
            foreach (bool padded in new[] { false, true })
            {
                var actual = Convolver.Execute(image, kernel, g, c.Options, ConvolutionMethod.Direct, default, tier, padded);
                ArrayAssert.Close(c.Expected!, actual, ExactTolerance, $"{caseName} [direct, {tier}, {(padded ? "padded copy" : "row edges")}]");
            }
    }

    [Fact]
    public void Fixtures_CoverEveryModeBoundaryAndTheRefusals()
    {
        var all = ScipyFixtures.All.Values;
        Assert.True(ScipyFixtures.All.Count > 400, $"only {ScipyFixtures.All.Count} fixture cases loaded");
        foreach (var mode in Enum.GetValues<ConvolutionMode>())
            foreach (var boundary in Enum.GetValues<BoundaryMode>())
                Assert.Contains(all, c => c.Options.Mode == mode && c.Options.Boundary == boundary && c.Expected is { IsEmpty: false });
        Assert.Contains(all, c => c.Refused is not null && c.ScipyCrashes);
        Assert.Contains(all, c => c.Refused is not null && c.Refused.Contains("at least as large"));
        Assert.Contains(all, c => c.Refused is not null && c.Refused.Contains("negative dimensions"));
        Assert.Contains(all, c => double.IsNaN(c.Options.FillValue) && c.Expected is not null);
        Assert.Contains(all, c => c.Options.StrideY > 1 && c.Options.StrideX > 1 && c.Options.StrideY != c.Options.StrideX);
    }
}
