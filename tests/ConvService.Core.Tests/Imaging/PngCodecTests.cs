using System.Buffers.Binary;
using ConvService.Core.Arrays;
using ConvService.Core.Generators;
using ConvService.Core.Imaging;
using ConvService.Core.Npy;
using MathNet.Numerics.Statistics;

namespace ConvService.Core.Tests.Imaging;

public sealed class PngCodecTests
{
    private const long MaxPixels = 1 << 20;

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "png", name);

    public static TheoryData<string, int, int, int, bool> GoodFiles => new()
    {
        // name, bit depth, colour type, rows, interlaced
        { "gray1", 1, 0, 9, false },
        { "gray2", 2, 0, 9, false },
        { "gray4", 4, 0, 9, false },
        { "gray8", 8, 0, 11, false },
        { "gray16", 16, 0, 11, false },
        { "rgb8", 8, 2, 10, false },
        { "rgb16", 16, 2, 10, false },
        { "rgba8", 8, 6, 10, false },
        { "rgba16", 16, 6, 6, false },
        { "gray_alpha8", 8, 4, 10, false },
        { "gray_alpha16", 16, 4, 6, false },
        { "palette8", 8, 3, 12, false },
        { "palette4", 4, 3, 12, false },
        { "palette1", 1, 3, 5, false },
        { "gray8_adam7", 8, 0, 19, true },
        { "gray2_adam7", 2, 0, 11, true },
        { "rgb16_adam7", 16, 2, 9, true },
        { "rgba8_adam7_tiny", 8, 6, 3, true },
        { "gray8_1x1", 8, 0, 1, false },
        { "pil_gray8", 8, 0, 9, false },
        { "pil_gray16", 16, 0, 7, false },
        { "pil_rgb8", 8, 2, 10, false },
        { "pil_rgba8", 8, 6, 6, false },
        { "pil_gray_alpha8", 8, 4, 5, false },
        { "pil_palette", 4, 3, 8, false },
    };

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void Decode_FixtureFile_MatchesNumpyExpectation(string name, int bitDepth, int colorType, int rows, bool interlaced)
    {
        byte[] png = File.ReadAllBytes(Fixture(name + ".png"));
        var expected = NpyCodec.Read(File.ReadAllBytes(Fixture(name + ".expected.npy")), long.MaxValue);

        var info = PngCodec.ReadInfo(png);
        Assert.Equal(new PngInfo(expected.Cols, rows, bitDepth, colorType, interlaced), info);

        var actual = PngCodec.Decode(png, MaxPixels);
        Assert.Equal((expected.Rows, expected.Cols), (actual.Rows, actual.Cols));
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.Equal(expected.Data[i], actual.Data[i], 1e-9);
    }

    [Fact]
    public void Decode_Gray16_GivesExactRawSamplesAboveEightBits()
    {
        var actual = PngCodec.Decode(File.ReadAllBytes(Fixture("gray16.png")), MaxPixels);
        var expected = NpyCodec.Read(File.ReadAllBytes(Fixture("gray16.expected.npy")), long.MaxValue);
        Assert.Equal(expected.Data, actual.Data); // exact, not approximately
        Assert.True(actual.Span.IndexOfAnyInRange(256.0, 65535.0) >= 0);
    }

    [Fact]
    public void EncodeGray16_ThenDecode_RoundTripsIntegersExactly()
    {
        var rng = new Random(77);
        foreach (var (rows, cols) in new[] { (1, 1), (1, 9), (9, 1), (33, 47) })
        {
            var a = new Array2D(rows, cols);
            for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.Next(0, 65536);
            a.Data[0] = 65535;
            var back = PngCodec.Decode(PngCodec.EncodeGray16(a), MaxPixels);
            Assert.Equal((rows, cols), (back.Rows, back.Cols));
            Assert.Equal(a.Data, back.Data);
        }
    }

    [Fact]
    public void EncodeGray16_RoundsAndSaturates()
    {
        var a = Array2D.FromArray(new[,] { { -5.0, 1.4, 1.6, 70000.0, double.NaN, double.PositiveInfinity } });
        var back = PngCodec.Decode(PngCodec.EncodeGray16(a), MaxPixels);
        Assert.Equal(new double[] { 0, 1, 2, 65535, 0, 65535 }, back.Data);
    }

    [Fact]
    public void EncodePreview_ThenDecode_SpansZeroTo255MinMax()
    {
        var a = ArrayGenerator.RandomNormal(40, 30, seed: 9);
        var back = PngCodec.Decode(PngCodec.EncodePreview(a), MaxPixels);
        Assert.Equal((40, 30), (back.Rows, back.Cols));
        double min = a.Data.Minimum(), max = a.Data.Maximum();
        for (int i = 0; i < a.Data.Length; i++)
        {
            Assert.Equal(Math.Round((a.Data[i] - min) / (max - min) * 255), back.Data[i], 1e-9);
            Assert.InRange(back.Data[i], 0, 255);
        }
        Assert.Equal(0, back.Data[Array.IndexOf(a.Data, min)]);
        Assert.Equal(255, back.Data[Array.IndexOf(a.Data, max)]);
    }

    [Fact]
    public void EncodePreview_ConstantArray_IsAllZero()
    {
        var a = new Array2D(3, 4);
        a.Span.Fill(42.5);
        var back = PngCodec.Decode(PngCodec.EncodePreview(a), MaxPixels);
        Assert.True(back.Span.IndexOfAnyExcept(0.0) < 0);
    }

    [Fact]
    public void EncodePreview_NonFiniteValues_MapToTheEnds()
    {
        var a = Array2D.FromArray(new[,] { { double.NaN, -1.0, 3.0, double.NegativeInfinity, double.PositiveInfinity, 1.0 } });
        var back = PngCodec.Decode(PngCodec.EncodePreview(a), MaxPixels);
        Assert.Equal(new double[] { 0, 0, 255, 0, 255, 128 }, back.Data);
    }

    [Fact]
    public void EncodePreview_ExtremeRange_DoesNotOverflow()
    {
        var a = Array2D.FromArray(new[,] { { -double.MaxValue, 0.0, double.MaxValue } });
        var back = PngCodec.Decode(PngCodec.EncodePreview(a), MaxPixels);
        Assert.Equal(new double[] { 0, 128, 255 }, back.Data);
    }

    [Fact]
    public void Encode_EmptyArray_IsRefusedWithAdvice()
    {
        var e = Assert.Throws<ArrayFormatException>(() => PngCodec.EncodePreview(new Array2D(0, 3)));
        Assert.Contains(".npy", e.Message);
        Assert.Throws<ArrayFormatException>(() => PngCodec.EncodeGray16(new Array2D(3, 0)));
    }

    [Fact]
    public void ReadInfo_BombHeader_ReportsSizeWithoutDecoding()
    {
        byte[] png = File.ReadAllBytes(Fixture("bad_huge_ihdr.png"));
        var info = PngCodec.ReadInfo(png);
        Assert.Equal(10_000_000_000L, info.PixelCount);
        var e = Assert.Throws<ArrayTooLargeException>(() => PngCodec.Decode(png, MaxPixels));
        Assert.Contains("100000×100000", e.Message);
    }

    [Fact]
    public void Decode_PixelLimit_IsInclusive()
    {
        byte[] png = File.ReadAllBytes(Fixture("gray8.png")); // 17 × 11 = 187 pixels
        Assert.Equal(11, PngCodec.Decode(png, 187).Rows);
        Assert.Throws<ArrayTooLargeException>(() => PngCodec.Decode(png, 186));
    }

    [Theory]
    [InlineData("bad_truncated.png", "truncated")]
    [InlineData("bad_crc.png", "CRC")]
    [InlineData("bad_not_png.png", "not a PNG")]
    [InlineData("bad_bomb_overlong.png", "more than")]
    [InlineData("bad_short_data.png", "inflates to 50 bytes")]
    [InlineData("bad_filter.png", "filter type 7")]
    [InlineData("bad_palette_index.png", "palette index 3")]
    public void Decode_BadFile_IsRefused(string name, string messagePart)
    {
        var e = Assert.Throws<ArrayFormatException>(() => PngCodec.Decode(File.ReadAllBytes(Fixture(name)), MaxPixels));
        Assert.Contains(messagePart, e.Message);
    }

    [Fact]
    public void Decode_EveryTruncationOfAValidFile_IsRefusedCleanly()
    {
        byte[] png = File.ReadAllBytes(Fixture("rgb16_adam7.png"));
        for (int length = 0; length < png.Length; length++)
            Assert.ThrowsAny<ArrayFormatException>(() => PngCodec.Decode(png.AsSpan(0, length), MaxPixels));
    }

    [Theory]
    [InlineData(3, 16, "colour type 3 with bit depth 16")]
    [InlineData(2, 4, "colour type 2 with bit depth 4")]
    [InlineData(5, 8, "colour type 5 does not exist")]
    public void ReadInfo_InvalidDepthForColourType_IsRefused(int colorType, int bitDepth, string messagePart)
    {
        byte[] png = PngCodec.EncodePreview(new Array2D(2, 2));
        png[16 + 8] = (byte)bitDepth;
        png[16 + 9] = (byte)colorType;
        FixIhdrCrc(png);
        var e = Assert.Throws<ArrayFormatException>(() => PngCodec.ReadInfo(png));
        Assert.Contains(messagePart, e.Message);
    }

    [Fact]
    public void ReadInfo_ZeroWidth_IsRefused()
    {
        byte[] png = PngCodec.EncodePreview(new Array2D(2, 2));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 0);
        FixIhdrCrc(png);
        Assert.Throws<ArrayFormatException>(() => PngCodec.ReadInfo(png));
    }

    [Fact]
    public void Decode_UnknownCriticalChunk_IsRefusedButAncillaryIsSkipped()
    {
        byte[] png = PngCodec.EncodePreview(Array2D.FromArray(new[,] { { 0.0, 1.0 } }));
        int afterIhdr = 8 + 12 + 13;
        byte[] withAncillary = Insert(png, afterIhdr, Chunk("zzZz"u8, [1, 2, 3]));
        Assert.Equal(new double[] { 0, 255 }, PngCodec.Decode(withAncillary, MaxPixels).Data);

        byte[] withCritical = Insert(png, afterIhdr, Chunk("ZZZZ"u8, [1, 2, 3]));
        var e = Assert.Throws<ArrayFormatException>(() => PngCodec.Decode(withCritical, MaxPixels));
        Assert.Contains("ZZZZ", e.Message);
    }

    [Fact]
    public void Decode_DataInflatingFarPastItsHeader_IsRefusedWithoutInflatingIt()
    {
        // An honest 1000×1000 header (1,001,000 bytes of rows) over data that inflates to 64 MB: the bomb a pixel limit
        // cannot catch, and the measured reason PngCodec.cs gives for keeping this decoder (StbImageSharp inflates it all).
        var zlib = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(zlib, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) z.Write(zeros);
        }
        byte[] png = PngCodec.EncodePreview(new Array2D(1000, 1000));
        int idatAt = 8 + 12 + 13, idatLength = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(idatAt));
        byte[] bomb = [.. png.AsSpan(0, idatAt), .. Chunk("IDAT"u8, zlib.ToArray()), .. png.AsSpan(idatAt + 12 + idatLength)];

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ArrayFormatException>(() => PngCodec.Decode(bomb, MaxPixels));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("more than the 1001000 bytes", e.Message);
        Assert.InRange(allocated, 0, 4 << 20);
    }

    private static byte[] Insert(byte[] png, int at, byte[] chunk) => [.. png.AsSpan(0, at), .. chunk, .. png.AsSpan(at)];

    private static byte[] Chunk(ReadOnlySpan<byte> type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        type.CopyTo(chunk.AsSpan(4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), ReferenceCrc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    private static void FixIhdrCrc(byte[] png) =>
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(8 + 8 + 13), ReferenceCrc32(png.AsSpan(12, 17)));

    // Bitwise CRC-32, independent of the codec's table-driven one, so a table bug cannot hide itself.
    private static uint ReferenceCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
