using ConvService.Core.Arrays;
using ConvService.Core.Fits;
using ConvService.Core.Npy;

namespace ConvService.Core.Tests.Fits;

/// <summary>Reads the astropy-written fixtures (tests/fixtures/make_fits_fixtures.py) and refuses the hostile ones.</summary>
public sealed class FitsReaderTests
{
    private static readonly FitsReadLimits Limits = new(MaxPixels: 1 << 20, MaxHeaderBytes: 288_000, MaxInflatedBytes: 16 << 20);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "fits", name);

    private static Array2D Expected(string name) => NpyCodec.Read(File.ReadAllBytes(Fixture(name)), 1 << 24);

    public static TheoryData<string, string> GoodFiles => new()
    {
        { "bitpix8.fits", "bitpix8" }, { "bitpix16.fits", "bitpix16" }, { "bitpix32.fits", "bitpix32" }, { "bitpix64.fits", "bitpix64" },
        { "bitpix-32.fits", "bitpix-32" }, { "bitpix-64.fits", "bitpix-64" }, { "uint16.fits", "uint16" }, { "scaled16.fits", "scaled16" },
        { "scaled8.fits", "scaled8" }, { "blank16.fits", "blank16" }, { "wcs.fits", "wcs" }, { "extensions.fits", "extensions" },
        { "compressed.fits.gz", "compressed" }, { "degenerate3d.fits", "degenerate3d" },
    };

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void Read_AstropyFile_EqualsAstropyPhysicalValuesBitForBit(string file, string expected)
    {
        var image = FitsReader.Read(File.ReadAllBytes(Fixture(file)), Limits);
        AssertBitIdentical(Expected(expected + ".expected.npy"), image.Data);
    }

    [Fact]
    public void Read_BlankCards_BecomeNaN()
    {
        var image = FitsReader.Read(File.ReadAllBytes(Fixture("blank16.fits")), Limits);
        Assert.True(double.IsNaN(image.Data[1, 1]));
        Assert.True(double.IsNaN(image.Data[5, 9]));
        Assert.False(double.IsNaN(image.Data[0, 0]));
    }

    [Fact]
    public void Read_EmptyPrimary_TakesFirstImageExtension()
    {
        var image = FitsReader.Read(File.ReadAllBytes(Fixture("extensions.fits")), Limits);
        Assert.Equal(1, image.HduIndex);
        Assert.Equal("SCI", image.Header.GetString("EXTNAME"));
    }

    [Theory]
    [InlineData("3")]
    [InlineData("err")]
    public void Read_HduByIndexOrName_SkipsTablesToThatImage(string hdu)
    {
        var image = FitsReader.Read(File.ReadAllBytes(Fixture("extensions.fits")), Limits, hdu);
        Assert.Equal(3, image.HduIndex);
        AssertBitIdentical(Expected("extensions.err.expected.npy"), image.Data);
    }

    [Fact]
    public void Read_HduThatIsATable_IsUnsupported()
    {
        var e = Assert.Throws<ArrayUnsupportedException>(() => FitsReader.Read(File.ReadAllBytes(Fixture("extensions.fits")), Limits, "2"));
        Assert.Contains("BINTABLE", e.Message);
    }

    [Fact]
    public void Read_MissingHdu_SaysWhatTheFileHolds()
    {
        var e = Assert.Throws<ArrayFormatException>(() => FitsReader.Read(File.ReadAllBytes(Fixture("extensions.fits")), Limits, "9"));
        Assert.Contains("3: IMAGE [4×3]", e.Message);
    }

    [Fact]
    public void Read_WcsHeader_KeepsKeywords()
    {
        var image = FitsReader.Read(File.ReadAllBytes(Fixture("wcs.fits")), Limits);
        Assert.Equal("RA---TAN", image.Header.GetString("CTYPE1"));
        Assert.Equal(10.5, image.Header.GetDouble("CRPIX1"));
        Assert.Equal("M1", image.Header.GetString("OBJECT"));
    }

    public static TheoryData<string, Type, string> HostileFiles => new()
    {
        { "bad_truncated_data.fits", typeof(ArrayFormatException), "truncated" },
        { "bad_truncated_header.fits", typeof(ArrayFormatException), "before its END card" },
        { "bad_lying_naxis.fits", typeof(ArrayFormatException), "truncated" },
        { "bad_huge_naxis.fits", typeof(ArrayTooLargeException), "over the limit" },
        { "bad_overflow_naxis.fits", typeof(ArrayTooLargeException), "more data than any file can hold" },
        { "bad_cube.fits", typeof(ArrayUnsupportedException), "3-D cube" },
        { "bad_table_only.fits", typeof(ArrayUnsupportedException), "no 2-D image HDU" },
        { "bad_1d.fits", typeof(ArrayUnsupportedException), "1-D" },
        { "bad_no_end.fits", typeof(ArrayTooLargeException), "no END card within" },
        { "bad_bitpix.fits", typeof(ArrayFormatException), "BITPIX = 24" },
        { "bad_gzip_bomb.fits.gz", typeof(ArrayTooLargeException), "inflates to more than" },
        { "bad_not_fits.fits", typeof(ArrayFormatException), "not a FITS file" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Read_HostileFile_RefusedWithReason(string file, Type exception, string reason)
    {
        var e = Assert.ThrowsAny<ArrayFormatException>(() => FitsReader.Read(File.ReadAllBytes(Fixture(file)), Limits));
        Assert.IsType(exception, e);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Read_HeaderOverTheCap_RefusedBeforeItsEnd()
    {
        var tight = Limits with { MaxHeaderBytes = 800 };
        var e = Assert.Throws<ArrayTooLargeException>(() => FitsReader.Read(File.ReadAllBytes(Fixture("wcs.fits")), tight));
        Assert.Contains("MaxFitsHeaderBytes", e.Message);
    }

    [Fact]
    public void Write_ThenRead_RoundTripsValuesAndCards()
    {
        var a = Array2D.FromArray(new[,] { { 1.5, double.NaN, -0.0 }, { double.PositiveInfinity, 1e-300, 3 } });
        var cards = new List<FitsCard> { FitsCards.Real("CRPIX1", 2.5), FitsCards.Integer("NAXIS3", 7) };
        cards.AddRange(FitsCards.History(new string('h', 100)));
        byte[] file = FitsWriter.Write(a, cards);
        Assert.Equal(0, file.Length % FitsFormat.BlockLength);
        Assert.Equal(file.Length, FitsWriter.EncodedLength(a, cards));
        var back = FitsReader.Read(file, Limits);
        AssertBitIdentical(a, back.Data);
        Assert.Equal(2.5, back.Header.GetDouble("CRPIX1"));
        Assert.Null(back.Header.Find("NAXIS3")); // structural cards of the input are never copied
        Assert.Equal(2, back.Header.Cards.Count(c => c.Keyword == "HISTORY"));
    }

    [Fact]
    public void ForResult_FullModeAndStride_MovesReferencePixelAndScalesPixelSize()
    {
        var header = FitsReader.Read(File.ReadAllBytes(Fixture("wcs.fits")), Limits).Header;
        // 3×3 kernel, full mode: output pixel 0 lies over input pixel −1; stride 2 on both axes.
        var cards = FitsWcs.ForResult(header, offsetY: -1, offsetX: -1, strideY: 2, strideX: 2);
        var adjusted = new FitsHeader(cards);
        Assert.Equal((10.5 - 1 + 1) / 2 + 1, adjusted.GetDouble("CRPIX1"));
        Assert.Equal((7.25 - 1 + 1) / 2 + 1, adjusted.GetDouble("CRPIX2"));
        Assert.Equal(-5e-4, adjusted.GetDouble("CDELT1"));
        Assert.Equal("RA---TAN", adjusted.GetString("CTYPE1"));
    }

    [Fact]
    public void ForResult_ValueThatWouldOverflow_IsCopiedUnchanged()
    {
        var card = FitsCards.Real("CD1_1", 1e308);
        var cards = FitsWcs.ForResult(new FitsHeader([FitsCards.Real("CRPIX1", 1), card]), 0, 0, strideY: 10, strideX: 10);
        Assert.Equal(card.Raw, cards.Single(c => c.Keyword == "CD1_1").Raw);
    }

    private static void AssertBitIdentical(Array2D expected, Array2D actual)
    {
        Assert.Equal((expected.Rows, expected.Cols), (actual.Rows, actual.Cols));
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected.Data[i]) == BitConverter.DoubleToInt64Bits(actual.Data[i])
                || (double.IsNaN(expected.Data[i]) && double.IsNaN(actual.Data[i])),
                $"value {i}: expected {expected.Data[i]:R}, got {actual.Data[i]:R}");
    }
}
