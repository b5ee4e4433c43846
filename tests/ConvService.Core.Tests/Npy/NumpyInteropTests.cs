using System.Globalization;
using ConvService.Core.Arrays;
using ConvService.Core.Generators;
using ConvService.Core.Npy;

namespace ConvService.Core.Tests.Npy;

/// <summary>Has real numpy load what our writer produced. Skips (with the reason) where numpy is absent.</summary>
public sealed class NumpyInteropTests
{
    [SkippableFact]
    public void Write_FileIsLoadedByNumpyWithIdenticalValues()
    {
        Skip.IfNot(SystemPython.Has("numpy"), $"{SystemPython.Path} with numpy is not installed (apt-get install python3-numpy); numpy interop not checked.");

        var cases = new[]
        {
            ArrayGenerator.RandomNormal(13, 29, seed: 11),
            new Array2D(0, 4),
            Array2D.FromArray(new[,] { { double.NaN, double.PositiveInfinity, -0.0, double.Epsilon } }),
        };
        foreach (var a in cases)
        {
            string path = Path.Combine(Path.GetTempPath(), $"convservice-{Guid.NewGuid():N}.npy");
            try
            {
                File.WriteAllBytes(path, NpyCodec.Write(a));
                // numpy prints shape, dtype, C-contiguity and every value's exact bit pattern.
                string script =
                    "import sys, numpy as np\n" +
                    "a = np.load(sys.argv[1], allow_pickle=False)\n" +
                    "print(a.shape[0], a.shape[1], a.dtype.str, a.flags['C_CONTIGUOUS'])\n" +
                    "print(' '.join('%016x' % v for v in a.ravel().view('<u8')))\n";
                string[] lines = SystemPython.Run(script, path).Split('\n', StringSplitOptions.TrimEntries);
                Assert.Equal($"{a.Rows} {a.Cols} <f8 True", lines[0]);
                string[] hex = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(a.Data.Length, hex.Length);
                for (int i = 0; i < hex.Length; i++)
                    Assert.Equal(BitConverter.DoubleToUInt64Bits(a.Data[i]), ulong.Parse(hex[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }
}
