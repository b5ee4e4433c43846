using ConvService.Core.Arrays;
using ConvService.Core.Fits;

namespace ConvService.Core.Tests.Fits;

/// <summary>The header check an upload gets from its first bytes, before the rest of the body is read.</summary>
public sealed class FitsPrefixCheckTests
{
    private static readonly FitsReadLimits Limits = new(MaxPixels: 1 << 20, MaxHeaderBytes: 28_800, MaxInflatedBytes: 16 << 20);

    private static byte[] Header(params string[] cards) =>
        System.Text.Encoding.ASCII.GetBytes(string.Concat(cards.Select(c => c.PadRight(80))).PadRight(2880));

    private static readonly byte[] HugePrimary = Header("SIMPLE  =                    T", "BITPIX  =                  -64", "NAXIS   =                    2",
        "NAXIS1  =                 5000", "NAXIS2  =                 5000", "END");

    [Fact]
    public void CheckPrefix_PrimaryImageOverThePixelLimit_ThrowsWhatReadThrows()
    {
        var early = Assert.Throws<ArrayTooLargeException>(() => FitsReader.CheckPrefix(HugePrimary, Limits));
        var late = Assert.Throws<ArrayTooLargeException>(() => FitsReader.Read([.. HugePrimary, .. new byte[64]], Limits));
        Assert.Equal(late.Message, early.Message);
    }

    [Fact]
    public void CheckPrefix_SelectedExtensionOverTheLimit_Throws_AndAnotherHduDoesNot()
    {
        byte[] prefix = [.. Header("SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0", "EXTEND  =                    T", "END"),
            .. Header("XTENSION= 'IMAGE   '", "BITPIX  =                  -32", "NAXIS   =                    2", "NAXIS1  =                 4000",
                "NAXIS2  =                 4000", "PCOUNT  =                    0", "GCOUNT  =                    1", "EXTNAME = 'SCI     '", "END")];
        Assert.Throws<ArrayTooLargeException>(() => FitsReader.CheckPrefix(prefix, Limits));
        Assert.Throws<ArrayTooLargeException>(() => FitsReader.CheckPrefix(prefix, Limits, "SCI"));
        Assert.Throws<ArrayUnsupportedException>(() => FitsReader.CheckPrefix(prefix, Limits, "0")); // NAXIS = 0, as Read says
    }

    [Fact]
    public void CheckPrefix_NotFits_ThrowsFormat()
    {
        Assert.Throws<ArrayFormatException>(() => FitsReader.CheckPrefix(new byte[2880], Limits));
    }

    [Fact]
    public void CheckPrefix_APrefixThatEndsInsideAHeaderOrBeforeTheImage_DoesNotJudge()
    {
        FitsReader.CheckPrefix(HugePrimary.AsSpan(0, 160), Limits); // no END card yet
        FitsReader.CheckPrefix(Array.Empty<byte>(), Limits);
        var small = FitsWriter.Write(new Array2D(2, 2, [1.0, 2.0, 3.0, 4.0]));
        FitsReader.CheckPrefix(small, Limits); // a valid image within the limit
        FitsReader.CheckPrefix(small.AsSpan(0, 2880 + 8), Limits); // truncated data: left to Read
    }
}
