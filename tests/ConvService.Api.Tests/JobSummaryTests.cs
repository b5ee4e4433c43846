using ConvService.Core.Arrays;
using ConvService.Jobs;
using ConvService.Storage;

namespace ConvService.Api.Tests;

/// <summary>The min / max / mean a finished job reports, against a plain scalar loop, for every length and special value.</summary>
public sealed class JobSummaryTests
{
    private static readonly StoredArrayInfo Stored = new(new string('a', 64), [1, 1], "float64", 8, null, "xxh128:" + new string('b', 32));

    [Fact]
    public void Summary_MatchesScalarLoop_ForEveryLengthAndSpecialValue()
    {
        var rng = new Random(5);
        double[] specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0];
        for (int length = 1; length <= 70; length++)
        {
            for (int trial = 0; trial < 20; trial++)
            {
                var a = new Array2D(1, length);
                for (int i = 0; i < length; i++) a.Data[i] = rng.NextDouble() * 200 - 100;
                int injected = trial % 4; // 0–3 special values anywhere, including the vector tail
                for (int s = 0; s < injected; s++) a.Data[rng.Next(length)] = specials[rng.Next(specials.Length)];

                double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
                foreach (double v in a.Data)
                {
                    if (v < min) min = v;
                    if (v > max) max = v;
                    sum += v;
                }
                var summary = ConvolutionJob.Summarize(a, Stored, ArrayStatistics.Of(a.Span));
                string context = $"length {length}, trial {trial}: [{string.Join(", ", a.Data)}]";
                Assert.True(min.Equals(summary.Min!.Value) || (min == 0 && summary.Min == 0), $"min {summary.Min} vs {min}; {context}");
                Assert.True(max.Equals(summary.Max!.Value) || (max == 0 && summary.Max == 0), $"max {summary.Max} vs {max}; {context}");
                double mean = sum / length;
                // The vector sum adds in another order: equal to rounding when finite; NaN and ±∞ do not depend on order here.
                if (double.IsFinite(mean)) Assert.True(Math.Abs(mean - summary.Mean!.Value) <= 1e-12 * Math.Max(1, Math.Abs(mean)), $"mean {summary.Mean} vs {mean}; {context}");
                else Assert.Equal(mean, summary.Mean!.Value);
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(601, 601)]   // several digest bands and a partial one
    [InlineData(128, 2)]     // exactly two bands
    public void DigestStatistics_EqualSeparatePass(int rows, int cols)
    {
        var rng = new Random(rows * 31 + cols);
        var a = new Array2D(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble() - 0.5;
        var (checksum, statistics) = ResultDigest.Of(a);
        Assert.Equal(ArrayId.Compute(a).Checksum, checksum);
        var separate = ArrayStatistics.Of(a.Span);
        Assert.Equal(separate.Min, statistics.Min);
        Assert.Equal(separate.Max, statistics.Max);
        Assert.Equal(separate.Count, statistics.Count);
        Assert.True(Math.Abs(separate.Sum - statistics.Sum) <= 1e-12 * Math.Max(1, Math.Abs(separate.Sum)));
    }

    [Fact]
    public void Summary_AllNaN_HasInfiniteBoundsAndNaNMean()
    {
        var a = new Array2D(3, 7);
        a.Span.Fill(double.NaN);
        var summary = ConvolutionJob.Summarize(a, Stored, ArrayStatistics.Of(a.Span));
        Assert.Equal(double.PositiveInfinity, summary.Min);
        Assert.Equal(double.NegativeInfinity, summary.Max);
        Assert.True(double.IsNaN(summary.Mean!.Value));
    }

    [Fact]
    public void Summary_EmptyResult_HasNoStatistics()
    {
        var summary = ConvolutionJob.Summarize(new Array2D(0, 5), Stored, new ArrayStatistics());
        Assert.Null(summary.Min);
        Assert.Null(summary.Max);
        Assert.Null(summary.Mean);
        Assert.Equal(new[] { 0, 5 }, summary.Shape);
    }
}
