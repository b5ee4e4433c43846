using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

/// <summary>
/// The checksum and statistics fused into the convolution: equal to the same digest taken afterwards, for every method,
/// thread count and shape; equal to the definition written out independently here; and sensitive to every value.
/// </summary>
public sealed class ResultDigestTests
{
    [Fact]
    public void FusedDigest_EqualsDigestOfFinishedOutput_ForEveryMethodAndThreadCount()
    {
        int compared = 0;
        foreach (var c in ConvolutionPropertyTests.Cases(seed: 21, count: 200))
        {
            foreach (var method in new[] { ConvolutionMethod.Naive, ConvolutionMethod.Direct, ConvolutionMethod.Fft })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    var options = c.Options with { Method = method, Threads = threads };
                    Array2D expected;
                    try { expected = Convolver.Convolve2D(c.Image, c.Kernel, options); }
                    catch (ConvolutionRefusedException) { continue; }
                    var output = new Array2D(expected.Rows, expected.Cols);
                    var digest = new ResultDigest(expected.Rows, expected.Cols);
                    Convolver.Convolve2D(c.Image, c.Kernel, options, output, digest);
                    var (checksum, statistics) = digest.Finish();
                    var (expectedChecksum, expectedStatistics) = ResultDigest.Of(expected);
                    Assert.True(expectedChecksum == checksum, $"{c}, {method}, {threads} threads");
                    Assert.Equal(expectedStatistics.Count, statistics.Count);
                    Assert.Equal(expectedStatistics.Min, statistics.Min);
                    Assert.Equal(expectedStatistics.Max, statistics.Max);
                    Assert.Equal(expectedStatistics.Sum, statistics.Sum); // combined band by band in order: bit-identical
                    compared++;
                }
            }
        }
        Assert.True(compared > 600, $"only {compared} comparisons ran");
    }

    [Theory]
    [InlineData(300, 41, 5, 3, 1)]
    [InlineData(300, 41, 5, 3, 2)]
    [InlineData(700, 90, 4, 4, 5)]
    public void FusedDigest_ManyBandsOnTwoThreads_EqualsOneThread(int rows, int cols, int kr, int kc, int stride)
    {
        var rng = new Random(rows + kr);
        var image = ConvolutionPropertyTests.RandomArray(rng, rows, cols, specials: false);
        var kernel = ConvolutionPropertyTests.RandomArray(rng, kr, kc, specials: false);
        string? first = null;
        foreach (int threads in new[] { 1, 2 })
        {
            var options = new ConvolutionOptions(StrideY: stride, StrideX: stride, Method: ConvolutionMethod.Direct, Threads: threads);
            var (r, c) = Convolver.OutputShape(rows, cols, kr, kc, options);
            Assert.True(r > 2 * ResultDigest.BandRows, "the case must span several bands");
            var output = new Array2D(r, c);
            var digest = new ResultDigest(r, c);
            Convolver.Convolve2D(image, kernel, options, output, digest);
            string checksum = digest.Finish().Checksum;
            Assert.Equal(ResultDigest.Of(output).Checksum, checksum);
            first ??= checksum;
            Assert.Equal(first, checksum);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(63, 5)]
    [InlineData(64, 5)]
    [InlineData(65, 5)]
    [InlineData(601, 601)]
    public void Checksum_MatchesItsWrittenDefinition(int rows, int cols)
    {
        var rng = new Random(rows * 7 + cols);
        var a = new Array2D(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble() - 0.5;

        // XXH3-128 over (rows, cols as little-endian int64) then the XXH3-128 of each 64-row band, little-endian.
        var hash = new XxHash128();
        var word = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(word, rows);
        BinaryPrimitives.WriteInt64LittleEndian(word.AsSpan(8), cols);
        hash.Append(word);
        for (int first = 0; first < rows; first += 64)
        {
            int end = Math.Min(rows, first + 64);
            var band = a.Span.Slice(first * cols, (end - first) * cols);
            BinaryPrimitives.WriteUInt128LittleEndian(word, XxHash128.HashToUInt128(MemoryMarshal.AsBytes(band)));
            hash.Append(word);
        }
        string expected = "xxh128:" + Convert.ToHexStringLower(hash.GetCurrentHash());
        Assert.Equal(expected, ResultDigest.Of(a).Checksum);
    }

    [Fact]
    public void Checksum_ChangesWithAnyValueAndWithShape()
    {
        var rng = new Random(3);
        var a = new Array2D(130, 17);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble();
        string original = ResultDigest.Of(a).Checksum;
        var seen = new HashSet<string> { original };
        foreach (int index in new[] { 0, 1, 17 * 64 - 1, 17 * 64, a.Data.Length - 1 })
        {
            double kept = a.Data[index];
            a.Data[index] = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(kept) ^ 1); // one bit
            Assert.True(seen.Add(ResultDigest.Of(a).Checksum), $"flipping a bit at {index} kept the checksum");
            a.Data[index] = kept;
        }
        Assert.Equal(original, ResultDigest.Of(a).Checksum);
        Assert.NotEqual(ResultDigest.Of(new Array2D(2, 3)).Checksum, ResultDigest.Of(new Array2D(3, 2)).Checksum);
        Assert.NotEqual(ResultDigest.Of(new Array2D(0, 3)).Checksum, ResultDigest.Of(new Array2D(0, 4)).Checksum);
    }

    [Fact]
    public void Digest_ReusedAfterReset_GivesTheSameChecksumAsAFreshOne()
    {
        var rng = new Random(9);
        var big = ConvolutionPropertyTests.RandomArray(rng, 300, 40, specials: true);
        var small = ConvolutionPropertyTests.RandomArray(rng, 10, 7, specials: true);
        var digest = new ResultDigest(big.Rows, big.Cols);
        digest.AddAll(big);
        Assert.Equal(ResultDigest.Of(big).Checksum, digest.Finish().Checksum);
        digest.Reset(small.Rows, small.Cols);
        digest.AddAll(small);
        Assert.Equal(ResultDigest.Of(small).Checksum, digest.Finish().Checksum);
    }

    [Fact]
    public void ConvolveWithDigest_WrongShape_IsRefused()
    {
        var image = new Array2D(10, 10);
        var kernel = new Array2D(3, 3);
        var output = new Array2D(12, 12);
        var e = Assert.Throws<ArgumentException>(() => Convolver.Convolve2D(image, kernel, ConvolutionOptions.Default, output, new ResultDigest(12, 11)));
        Assert.Contains("Reset", e.Message);
    }

    [Fact]
    public void AddRows_InSteps_EqualsWholeBands_AndRefusesRowsOutOfOrder()
    {
        var rng = new Random(13);
        var a = ConvolutionPropertyTests.RandomArray(rng, 150, 9, specials: true);
        var digest = new ResultDigest(150, 9);
        foreach (var (first, end) in new[] { (0, 10), (10, 64), (64, 65), (65, 128), (128, 150) }) digest.AddRows(a, first, end);
        Assert.Equal(ResultDigest.Of(a).Checksum, digest.Finish().Checksum);
        Assert.True(digest.Elapsed > TimeSpan.Zero);

        digest.Reset(150, 9);
        digest.AddRows(a, 0, 10);
        Assert.Throws<ArgumentException>(() => digest.AddRows(a, 20, 30));  // skips rows 10-19
        Assert.Throws<ArgumentException>(() => digest.AddRows(a, 60, 70));  // crosses into the next band
        Assert.Equal(TimeSpan.Zero, new ResultDigest(5, 5).Elapsed);
    }
}
