using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using ConvService.Core.Arrays;
using ConvService.Core.Imaging;
using StbImageSharp;

namespace ConvService.Benchmarks;

/// <summary>
/// <c>--png-probe ours|stb|stb16 bomb5000|overlong|gray16|fdict|crc</c>: the measurement behind keeping our PNG decoder
/// (issue #13): decodes one crafted PNG with <see cref="PngCodec"/> or with StbImageSharp (<c>stb</c>: its documented
/// 8-bit API; <c>stb16</c>: its internal 16-bit one) and prints the outcome, the time and the peak memory. Run each
/// case in its own process (peak RSS is per process):
/// <c>for c in bomb5000 overlong gray16 fdict crc; do for d in ours stb; do dotnet run -c Release --project
/// bench/ConvService.Benchmarks -- --png-probe $d $c; done; done</c>.
/// </summary>
internal static class PngProbeMode
{
    private const long MaxPixels = 100_000_000;

    public static int Run(string[] args)
    {
        if (args.Length != 2 || args[0] is not ("ours" or "stb" or "stb16"))
        {
            Console.Error.WriteLine("usage: --png-probe ours|stb|stb16 bomb5000|overlong|gray16|fdict|crc");
            return 2;
        }
        string decoder = args[0], name = args[1];
        double[]? expected = null;
        byte[] png;
        switch (name)
        {
            case "bomb5000": // 5000×5000 at 1 bit, all zeros: a 3 KB file for 25 M pixels, consistent with its header
                png = Png(5000, 5000, 1, Zlib(5000L * (1 + 625)));
                break;
            case "overlong": // the header says 1000×1000 at 8 bits (1 MB of rows); the data inflates to 256 MB
                png = Png(1000, 1000, 8, Zlib(256L * 1001 * 1000));
                break;
            case "gray16": // 3000×3000 16-bit grayscale, values above 8 bits
            {
                var a = new Array2D(3000, 3000);
                var rng = new Random(1);
                for (int i = 0; i < a.Data.Length; i++) a.Data[i] = i % 3000 * 20 + rng.Next(0, 50);
                png = PngCodec.EncodeGray16(a);
                expected = a.Data;
                break;
            }
            case "fdict": // a zlib stream asking for a preset dictionary, which PNG forbids
            {
                var z = Zlib(2 * 3);
                int flg = (z[1] & 0xE0) | 0x20;
                flg |= (31 - (z[0] * 256 + flg) % 31) % 31; // keep the header check valid: only FDICT is wrong
                png = Png(2, 2, 8, [z[0], (byte)flg, 0, 0, 0, 1, .. z.AsSpan(2)]);
                break;
            }
            case "crc": // one bit of the IDAT data flipped: the chunk's CRC no longer matches
                png = Png(2, 2, 8, Zlib(2 * 3));
                png[^20] ^= 1;
                break;
            default:
                Console.Error.WriteLine($"unknown case {name}");
                return 2;
        }

        GC.Collect();
        long peak0 = PeakRss(), allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        int repeat = name == "gray16" ? 5 : 1;
        var times = new List<double>();
        string outcome;
        try
        {
            double[] pixels = [];
            for (int r = 0; r < repeat; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                pixels = decoder == "ours" ? PngCodec.Decode(png, MaxPixels).Data : DecodeStb(png, sixteenBit: decoder == "stb16");
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            outcome = $"decoded {pixels.Length:N0} px";
            if (expected is not null)
                outcome += pixels.AsSpan().SequenceEqual(expected) ? ", exact"
                    : $", NOT exact (largest error {expected.Zip(pixels, (e, g) => Math.Abs(e - g)).Max()})";
        }
        catch (Exception e)
        {
            outcome = $"refused ({e.GetType().Name}: {e.Message})";
        }
        times.Sort();
        string time = times.Count > 0 ? $"{times[times.Count / 2]:F0} ms" : "-";
        Console.WriteLine($"{decoder,-5} {name,-8} {png.Length,10:N0} B: {outcome}; median {time}; " +
            $"managed {(GC.GetTotalAllocatedBytes(true) - allocated0) / 1048576.0 / repeat:F1} MiB per decode; peak RSS +{(PeakRss() - peak0) / 1048576.0:F0} MiB");
        return 0;
    }

    /// <summary>StbImageSharp as a drop-in would use it: its header read first (the pixel limit), then the decode, as doubles.</summary>
    private static unsafe double[] DecodeStb(byte[] png, bool sixteenBit)
    {
        var info = ImageInfo.FromStream(new MemoryStream(png)) ?? throw new InvalidDataException("not an image");
        if ((long)info.Width * info.Height > MaxPixels) throw new InvalidDataException("over the pixel limit");
        if (!sixteenBit)
        {
            var image = ImageResult.FromMemory(png, ColorComponents.Grey);
            var result = new double[image.Data.Length];
            for (int i = 0; i < result.Length; i++) result[i] = image.Data[i];
            return result;
        }
        // 16-bit samples only come out of the stbi__ functions, as a native buffer from the library's own allocator.
        int x, y, comp;
        ushort* samples = StbImage.stbi__load_and_postprocess_16bit(new StbImage.stbi__context(new MemoryStream(png)), &x, &y, &comp, 1);
        if (samples == null) throw new InvalidDataException(StbImage.stbi__g_failure_reason);
        var values = new double[(long)x * y];
        for (long i = 0; i < values.Length; i++) values[i] = samples[i];
        Marshal.FreeHGlobal((IntPtr)samples);
        return values;
    }

    private static byte[] Png(int width, int height, int bitDepth, byte[] zlib)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = (byte)bitDepth; // grayscale, deflate, filter 0, not interlaced
        return [137, 80, 78, 71, 13, 10, 26, 10, .. Chunk("IHDR"u8, ihdr), .. Chunk("IDAT"u8, zlib), .. Chunk("IEND"u8, [])];
    }

    private static byte[] Chunk(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        type.CopyTo(chunk.AsSpan(4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.HashToUInt32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    /// <summary>A zlib stream of <paramref name="zeros"/> zero bytes (filter byte 0 and black pixels, row after row).</summary>
    private static byte[] Zlib(long zeros)
    {
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var block = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= block.Length) z.Write(block, 0, (int)Math.Min(block.Length, left));
        }
        return compressed.ToArray();
    }

    private static long PeakRss() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}
