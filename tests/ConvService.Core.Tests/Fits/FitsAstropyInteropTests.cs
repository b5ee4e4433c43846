using ConvService.Core.Arrays;
using ConvService.Core.Fits;
using ConvService.Core.Generators;

namespace ConvService.Core.Tests.Fits;

/// <summary>Has real astropy open what our writer produced. Skips (with the reason) where astropy is absent.</summary>
public sealed class FitsAstropyInteropTests
{
    [SkippableFact]
    public void Write_FileIsOpenedByAstropyWithIdenticalValuesAndCards()
    {
        Skip.IfNot(SystemPython.Has("astropy"), $"{SystemPython.Path} with astropy is not installed (apt-get install python3-astropy); FITS interop not checked.");

        var a = ArrayGenerator.RandomNormal(13, 29, seed: 7);
        a[2, 3] = double.NaN;
        a[12, 28] = double.NegativeInfinity;
        var cards = new List<FitsCard> { FitsCards.Real("CRPIX1", 3.25, "reference pixel"), new("CTYPE1", "CTYPE1  = 'RA---TAN'".PadRight(80)) };
        cards.AddRange(FitsCards.History("ConvService: convolve2d mode=same boundary=fill fillvalue=0 stride=[1, 1], a long line that wraps"));
        string path = Path.Combine(Path.GetTempPath(), $"convservice-{Guid.NewGuid():N}.fits");
        try
        {
            File.WriteAllBytes(path, FitsWriter.Write(a, cards));
            // astropy verifies the file (output_verify-style, as on open) and prints shape, dtype, cards and every value's bits.
            string script =
                "import sys, numpy as np\n" +
                "from astropy.io import fits\n" +
                "with fits.open(sys.argv[1]) as f:\n" +
                "    f.verify('exception')\n" +
                "    h = f[0]\n" +
                "    d = h.data\n" +
                "    print(len(f), d.shape[0], d.shape[1], d.dtype.str, h.header['CRPIX1'], h.header['CTYPE1'])\n" +
                "    print(' | '.join(str(x) for x in h.header['HISTORY']))\n" +
                "    print(' '.join('%016x' % v for v in d.astype('<f8').ravel().view('<u8')))\n";
            string[] lines = SystemPython.Run(script, path).Split('\n', StringSplitOptions.TrimEntries);
            Assert.Equal("1 13 29 >f8 3.25 RA---TAN", lines[0]);
            Assert.StartsWith("ConvService: convolve2d mode=same", lines[1]);
            Assert.EndsWith("wraps", lines[1]);
            string[] hex = lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(a.Data.Length, hex.Length);
            for (int i = 0; i < hex.Length; i++)
                Assert.Equal(BitConverter.DoubleToUInt64Bits(a.Data[i]), Convert.ToUInt64(hex[i], 16));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
