using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

public sealed class ConvolutionGeometryTests
{
    [Fact]
    public void Compute_TutorialCase_KeepsOneOutputInTwentyFive()
    {
        var g = ConvolutionGeometry.Compute(3000, 3000, 4, 4, new ConvolutionOptions(StrideY: 5, StrideX: 5));
        Assert.Equal((601, 601), (g.OutputRows, g.OutputCols)); // full is 3003×3003; [::5] keeps ceil(3003/5)
    }

    [Fact]
    public void Compute_ValidWithImageSmallerOnBothAxes_SwapsInputs()
    {
        var g = ConvolutionGeometry.Compute(2, 3, 5, 6, new ConvolutionOptions(Mode: ConvolutionMode.Valid));
        Assert.True(g.Swapped);
        Assert.Equal((4, 4), (g.OutputRows, g.OutputCols));
    }

    [Fact]
    public void Compute_ValidWithNeitherInputCovering_Refuses()
    {
        var e = Assert.Throws<ConvolutionRefusedException>(() =>
            ConvolutionGeometry.Compute(2, 5, 3, 3, new ConvolutionOptions(Mode: ConvolutionMode.Valid)));
        Assert.Contains("at least as large", e.Message);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(-3, 2)]
    public void Compute_NonPositiveStride_Refuses(int sy, int sx)
    {
        Assert.Throws<ConvolutionRefusedException>(() =>
            ConvolutionGeometry.Compute(4, 4, 2, 2, new ConvolutionOptions(StrideY: sy, StrideX: sx)));
    }

    [Theory]
    [InlineData(0, 3, 0, 2)]
    [InlineData(3, 0, 2, 0)]
    [InlineData(0, 0, 0, 0)]
    public void Compute_FullWithBothInputsEmptyOnAnAxis_RefusesLikeNumpy(int m, int n, int p, int q)
    {
        var e = Assert.Throws<ConvolutionRefusedException>(() =>
            ConvolutionGeometry.Compute(m, n, p, q, new ConvolutionOptions(Mode: ConvolutionMode.Full)));
        Assert.Contains("negative size", e.Message);
    }

    [Theory]
    [InlineData(BoundaryMode.Wrap)]
    [InlineData(BoundaryMode.Symm)]
    public void Compute_EmptyImageWrapOrSymm_RefusesOnlyWhenTheOutputIsNotEmpty(BoundaryMode boundary)
    {
        // scipy crashes for full (there is nothing to wrap), but answers 'same' with an empty array.
        Assert.Throws<ConvolutionRefusedException>(() =>
            ConvolutionGeometry.Compute(0, 3, 2, 2, new ConvolutionOptions(Mode: ConvolutionMode.Full, Boundary: boundary)));
        var same = ConvolutionGeometry.Compute(0, 3, 2, 2, new ConvolutionOptions(Mode: ConvolutionMode.Same, Boundary: boundary));
        Assert.Equal((0, 3), (same.OutputRows, same.OutputCols));
        var fullWithEmptyOutput = ConvolutionGeometry.Compute(0, 3, 1, 2, new ConvolutionOptions(Mode: ConvolutionMode.Full, Boundary: boundary));
        Assert.Equal((0, 4), (fullWithEmptyOutput.OutputRows, fullWithEmptyOutput.OutputCols));
    }
}

public sealed class ConvolutionOptionsTests
{
    [Fact]
    public void Default_IsScipysDefaults()
    {
        var d = ConvolutionOptions.Default;
        Assert.Equal(new ConvolutionOptions(ConvolutionMode.Full, BoundaryMode.Fill, 0.0, 1, 1, ConvolutionMethod.Auto, 1), d);
        var g = ConvolutionGeometry.Compute(3, 3, 2, 2, d); // would refuse a zero stride
        Assert.Equal((4, 4), (g.OutputRows, g.OutputCols));
    }
}
