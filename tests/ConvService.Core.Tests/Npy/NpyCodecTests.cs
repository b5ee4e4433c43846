using System.Text;
using ConvService.Core.Arrays;
using ConvService.Core.Generators;
using ConvService.Core.Npy;

namespace ConvService.Core.Tests.Npy;

public sealed class NpyCodecTests
{
    private const long Limit = 1 << 20;

    // The logical matrix every good fixture holds (see tests/fixtures/make_npy_fixtures.py).
    private static readonly double[] Values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 250];

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "npy", name);

    [Theory]
    [InlineData("f8_v1.npy", "<f8", 1, false)]
    [InlineData("f8_v2.npy", "<f8", 2, false)]
    [InlineData("f8_v3.npy", "<f8", 3, false)]
    [InlineData("f8_fortran.npy", "<f8", 1, true)]
    [InlineData("f4.npy", "<f4", 1, false)]
    [InlineData("i4.npy", "<i4", 1, false)]
    [InlineData("i8.npy", "<i8", 1, false)]
    [InlineData("u1.npy", "|u1", 1, false)]
    [InlineData("u2.npy", "<u2", 1, false)]
    public void Read_NumpyWrittenFile_GivesTheMatrixFromBytesAndStream(string file, string descr, int version, bool fortran)
    {
        byte[] bytes = File.ReadAllBytes(Fixture(file));

        var header = NpyCodec.ReadHeader(new MemoryStream(bytes), Limit);
        Assert.Equal(new NpyHeader(descr, fortran, 3, 4, version, header.HeaderLength), header);
        Assert.Equal(bytes.Length - header.HeaderLength, header.DataLength);

        var fromSpan = NpyCodec.Read(bytes, Limit);
        Assert.Equal((3, 4), (fromSpan.Rows, fromSpan.Cols));
        Assert.Equal(Values, fromSpan.Data);

        using var stream = File.OpenRead(Fixture(file));
        Assert.Equal(Values, NpyCodec.Read(stream, Limit).Data);
        Assert.Equal(Values, NpyCodec.Read(new TrickleStream(bytes, seekable: false), Limit).Data);
    }

    [Fact]
    public void Read_SignedBytesInFortranOrder_AreSignedAndTransposedBack()
    {
        var a = NpyCodec.Read(File.ReadAllBytes(Fixture("i1_fortran.npy")), Limit);
        var expected = new double[Values.Length];
        for (int i = 0; i < Values.Length; i++) expected[i] = Values[i] - 128;
        Assert.Equal(expected, a.Data);
    }

    [Fact]
    public void Read_EmptyArray_KeepsItsShape()
    {
        var a = NpyCodec.Read(File.ReadAllBytes(Fixture("empty_0x5.npy")), Limit);
        Assert.Equal((0, 5), (a.Rows, a.Cols));
    }

    [Fact]
    public void Read_NonFiniteValues_PassThrough()
    {
        var a = NpyCodec.Read(File.ReadAllBytes(Fixture("nonfinite.npy")), Limit);
        Assert.True(double.IsNaN(a[0, 0]));
        Assert.Equal(double.PositiveInfinity, a[0, 1]);
        Assert.Equal(double.NegativeInfinity, a[1, 0]);
        Assert.True(double.IsNegative(a[1, 1]) && a[1, 1] == 0);
    }

    [Theory]
    [InlineData("bad_bigendian.npy", "astype('<f8')")]
    [InlineData("bad_object.npy", "object")]
    [InlineData("bad_1d.npy", "reshape with a.reshape(rows, cols)")]
    [InlineData("bad_3d.npy", "reshape with a.reshape(rows, cols)")]
    [InlineData("bad_0d.npy", "send a 2-D array")]
    [InlineData("bad_structured.npy", "structured")]
    [InlineData("bad_complex.npy", "not supported")]
    [InlineData("bad_truncated.npy", "truncated")]
    [InlineData("bad_trailing.npy", "trailing bytes")]
    [InlineData("bad_lying_shape.npy", "truncated")]
    [InlineData("bad_magic.npy", "not a .npy file")]
    [InlineData("bad_header_length.npy", "truncated")]
    [InlineData("bad_negative_shape.npy", "negative")]
    public void Read_BadFile_IsRefusedWithAFixItMessage(string file, string messagePart)
    {
        byte[] bytes = File.ReadAllBytes(Fixture(file));
        AssertRefused(() => NpyCodec.Read(bytes, Limit), messagePart);
        AssertRefused(() => NpyCodec.Read(new MemoryStream(bytes), Limit), messagePart);
        AssertRefused(() => NpyCodec.Read(new TrickleStream(bytes, seekable: false), Limit), messagePart);
    }

    [Theory]
    [InlineData("bad_huge_shape.npy")]
    [InlineData("bad_overflow_shape.npy")]
    public void Read_ShapeBeyondLimit_IsTooLargeBeforeAnyDataIsRead(string file)
    {
        byte[] bytes = File.ReadAllBytes(Fixture(file));
        var e = Assert.Throws<ArrayTooLargeException>(() => NpyCodec.Read(bytes, Limit));
        Assert.Contains("smaller", e.Message);
        // A stream that fails on any read past the header proves the check needs no data.
        int headerEnd = 10 + BitConverter.ToUInt16(bytes, 8);
        Assert.Throws<ArrayTooLargeException>(() => NpyCodec.Read(new TrickleStream(bytes[..headerEnd], seekable: false), Limit));
    }

    [Fact]
    public void Read_LimitCountsFloat64BytesEvenForNarrowTypes()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("u1.npy")); // 12 bytes of data, 96 as float64
        Assert.Equal(Values, NpyCodec.Read(bytes, 96).Data);
        Assert.Throws<ArrayTooLargeException>(() => NpyCodec.Read(bytes, 95));
    }

    [Fact]
    public void ReadHeader_LeavesStreamAtFirstDataByte()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f8_v2.npy"));
        var stream = new MemoryStream(bytes);
        var header = NpyCodec.ReadHeader(stream, Limit);
        Assert.Equal(header.HeaderLength, stream.Position);
        Assert.Equal(0, header.HeaderLength % 64);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}")]
    [InlineData("{ 'shape' : ( 2 , 3 ) , 'descr':'<f8','fortran_order':False , }")]
    [InlineData("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 3,),}")]
    public void Read_HeaderSpacingQuotesOrderAndTrailingCommas_AreTolerated(string dict)
    {
        var a = NpyCodec.Read(WithDict(dict, 6 * 8), Limit);
        Assert.Equal((2, 3), (a.Rows, a.Cols));
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False}", "'shape' is missing")]
    [InlineData("{'descr': '<f8', 'shape': (2, 3)}", "'fortran_order' is missing")]
    [InlineData("{'fortran_order': False, 'shape': (2, 3)}", "'descr' is missing")]
    [InlineData("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", "appears twice")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "unexpected key 'extra'")]
    [InlineData("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3)}", "True or False")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3]}", "tuple")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3.5)}", "expected ','")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x", "after the closing")]
    [InlineData("{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}", "expected ','")]
    [InlineData("{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3)}", "malformed")]
    [InlineData("__import__('os').system('x')", "dict")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)", "malformed")]
    public void Read_MalformedHeaderDict_IsRefused(string dict, string messagePart)
    {
        var e = Assert.Throws<ArrayFormatException>(() => NpyCodec.Read(WithDict(dict, 6 * 8), Limit));
        Assert.IsNotType<ArrayTooLargeException>(e);
        Assert.Contains(messagePart, e.Message);
        Assert.Contains("numpy.save", e.Message);
    }

    [Theory]
    [InlineData(">f8", "astype('<f8')")]
    [InlineData(">i4", "big-endian")]
    [InlineData("=f8", "native byte order")]
    [InlineData("|O", "pickled")]
    [InlineData("<U4", "not supported")]
    [InlineData("|b1", "not supported")]
    [InlineData("<M8[s]", "not supported")]
    public void Read_UnsupportedDescr_IsRefused(string descr, string messagePart)
    {
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1, 1), }}";
        var e = Assert.Throws<ArrayFormatException>(() => NpyCodec.Read(WithDict(dict, 8), Limit));
        Assert.Contains(messagePart, e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0 })]
    [InlineData(new byte[] { 4, 0 })]
    [InlineData(new byte[] { 2, 1 })]
    public void Read_UnknownFormatVersion_IsRefused(byte[] version)
    {
        byte[] bytes = NpyCodec.Write(new Array2D(1, 1));
        bytes[6] = version[0];
        bytes[7] = version[1];
        if (version[0] == 1)
        {
            Assert.Equal(new double[1], NpyCodec.Read(bytes, Limit).Data); // the unmodified control case
            return;
        }
        var e = Assert.Throws<ArrayFormatException>(() => NpyCodec.Read(bytes, Limit));
        Assert.Contains("version", e.Message);
    }

    [Fact]
    public void Read_Version2HeaderLengthOf4GiB_IsRefusedWithoutReadingIt()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f8_v2.npy"));
        BitConverter.TryWriteBytes(bytes.AsSpan(8), uint.MaxValue);
        AssertRefused(() => NpyCodec.Read(bytes, Limit), "allowed");
        AssertRefused(() => NpyCodec.Read(new TrickleStream(bytes[..12], seekable: false), Limit), "allowed");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(9)]
    [InlineData(40)]
    public void Read_InputCutInsideTheHeader_IsRefused(int length)
    {
        byte[] bytes = NpyCodec.Write(new Array2D(2, 2))[..length];
        Assert.Throws<ArrayFormatException>(() => NpyCodec.Read(bytes, Limit));
        Assert.Throws<ArrayFormatException>(() => NpyCodec.Read(new TrickleStream(bytes, seekable: false), Limit));
    }

    [Fact]
    public void Write_ProducesVersion1HeaderAlignedTo64BytesEndingInNewline()
    {
        byte[] bytes = NpyCodec.Write(new Array2D(3, 4));
        int headerLength = 10 + BitConverter.ToUInt16(bytes, 8);
        Assert.Equal(0, headerLength % 64);
        Assert.Equal((byte)'\n', bytes[headerLength - 1]);
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
        string dict = Encoding.ASCII.GetString(bytes, 10, headerLength - 10).TrimEnd();
        Assert.Equal("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", dict);
        Assert.Equal(headerLength + 12 * 8, bytes.Length);
    }

    [Fact]
    public void Header_WithAnotherDescr_HasThatDescrsItemSize_AndAnUnsupportedOneIsRefused()
    {
        var header = new NpyHeader("<f8", false, 3, 4, 1, 128);
        var narrowed = header with { Descr = "<i2" };
        Assert.Equal(2, narrowed.ItemSize);
        Assert.Equal(24, narrowed.DataLength);
        Assert.Equal(8, header.ItemSize);
        Assert.Throws<ArrayFormatException>(() => header with { Descr = "|O" });
    }

    [Fact]
    public void Write_StreamAndByteOverloads_ProduceTheSameBytes()
    {
        var a = ArrayGenerator.RandomNormal(9, 11, seed: 5);
        var stream = new MemoryStream();
        NpyCodec.Write(stream, a);
        Assert.Equal(NpyCodec.Write(a), stream.ToArray());
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(9, 11)]
    [InlineData(400, 700)] // 2.2 MB of data: three chunks of the async writer, the last partial
    public async Task WriteAsync_ProducesTheSameBytesAsWrite_AndTheLengthItAnnounces(int rows, int cols)
    {
        var a = rows * cols == 0 ? new Array2D(rows, cols) : ArrayGenerator.RandomNormal(rows, cols, seed: 6);
        var stream = new MemoryStream();
        await NpyCodec.WriteAsync(stream, a);
        byte[] expected = NpyCodec.Write(a);
        Assert.Equal(expected, stream.ToArray());
        Assert.Equal(expected.Length, NpyCodec.EncodedLength(a));
    }

    [Fact]
    public void RoundTrip_RandomShapes_PreservesEveryBit()
    {
        var rng = new Random(2024);
        int[] edges = [0, 1, 2, 7];
        for (int trial = 0; trial < 60; trial++)
        {
            int rows = trial < 16 ? edges[trial / 4] : rng.Next(0, 40);
            int cols = trial < 16 ? edges[trial % 4] : rng.Next(0, 40);
            var a = ArrayGenerator.RandomNormal(rows, cols, seed: trial);
            if (a.Length > 0) a.Data[0] = trial % 3 == 0 ? double.NaN : -0.0;

            byte[] bytes = NpyCodec.Write(a);
            var fromBytes = NpyCodec.Read(bytes, Limit);
            var fromStream = NpyCodec.Read(new TrickleStream(bytes, seekable: false), Limit);
            Assert.Equal((rows, cols), (fromBytes.Rows, fromBytes.Cols));
            Assert.Equal((rows, cols), (fromStream.Rows, fromStream.Cols));
            for (int i = 0; i < a.Data.Length; i++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(a.Data[i]), BitConverter.DoubleToInt64Bits(fromBytes.Data[i]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(a.Data[i]), BitConverter.DoubleToInt64Bits(fromStream.Data[i]));
            }
        }
    }

    [Fact]
    public void Read_LargeFortranArray_ReassemblesAcrossReadChunks()
    {
        // 150 × 130 float64 is 156 000 bytes, more than two of the reader's 64 KiB chunks.
        const int rows = 150, cols = 130;
        var dict = $"{{'descr': '<f8', 'fortran_order': True, 'shape': ({rows}, {cols}), }}";
        var data = new byte[rows * cols * 8];
        for (int j = 0, k = 0; j < cols; j++)
            for (int i = 0; i < rows; i++, k++)
                BitConverter.TryWriteBytes(data.AsSpan(k * 8), i * 1000.0 + j);
        byte[] bytes = [.. WithDict(dict, 0), .. data];

        foreach (var a in new[] { NpyCodec.Read(bytes, Limit), NpyCodec.Read(new TrickleStream(bytes, seekable: false), Limit) })
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    Assert.Equal(i * 1000.0 + j, a[i, j]);
        }
    }

    private static void AssertRefused(Func<Array2D> read, string messagePart)
    {
        var e = Assert.ThrowsAny<ArrayFormatException>(read);
        Assert.Contains(messagePart, e.Message);
    }

    /// <summary>A v1.0 file with the given dict text and <paramref name="dataBytes"/> zero bytes of data.</summary>
    internal static byte[] WithDict(string dict, int dataBytes)
    {
        byte[] text = Encoding.Latin1.GetBytes(dict + "\n");
        var bytes = new byte[10 + text.Length + dataBytes];
        byte[] magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];
        magic.CopyTo(bytes, 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), (ushort)text.Length);
        text.CopyTo(bytes, 10);
        return bytes;
    }
}

/// <summary>Returns at most 7 bytes per read, like a slow network stream, optionally without seeking.</summary>
internal sealed class TrickleStream(byte[] data, bool seekable) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => seekable;
    public override bool CanWrite => false;
    public override long Length => seekable ? data.Length : throw new NotSupportedException();

    public override long Position
    {
        get => seekable ? _position : throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, 7), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
