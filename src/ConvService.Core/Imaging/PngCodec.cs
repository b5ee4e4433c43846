using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using ConvService.Core.Arrays;

namespace ConvService.Core.Imaging;

// Why our own decoder and not StbImageSharp 2.30.16 (issue #13), measured on the 2-vCPU dev VM (heavily loaded, so the
// times are rough) with `dotnet run -c Release --project bench/ConvService.Benchmarks -- --png-probe ours|stb|stb16 CASE`,
// one process per line:
//   overlong: a 249 KB PNG whose header says 1000×1000 gray8 (1 MB of rows) and whose IDAT inflates to 256 MB.
//     ours: refused after 1,001,001 inflated bytes, peak RSS +1 MiB. stb: inflates all 256 MB (its zlib output buffer
//     grows without a cap and data past the image is accepted), decodes it, peak RSS +247 MiB. That is the bomb the
//     pixel limit cannot catch: the header is honest, the data is not (and the memory grows with the upload's size).
//   crc: a PNG with one bit of IDAT flipped. ours: refused (CRC). stb: decoded silently (it never checks CRCs).
//   gray16: a 3000×3000 16-bit gray PNG. ours: exact, 947 ms. stb's documented API is 8-bit only: 551 ms, largest error
//     59,795; exact samples need the internal stbi__load_and_postprocess_16bit and freeing its native buffer by hand
//     (699 ms, exact).
//   bomb5000: a 3 KB 1-bit 5000×5000 PNG (honest header). Both refuse it from the header when over the limit (stb via
//     ImageInfo.FromStream); under it both decode: ours 1,093 ms, 194 MiB managed (the output); stb 274 ms, 215 MiB.
//   fdict (preset dictionary, forbidden in PNG): both refuse cleanly.
// Also: stb reports errors through a process-wide static string (stbi__g_failure_reason), racy between concurrent
// decodes, and its RGB-to-gray is an integer approximation, not the BT.601 luma on raw samples documented below.
// So StbImageSharp would still need our chunk walker (CRCs), our capped inflate and our 16-bit path: it would replace
// only the row unfiltering. It is faster there (1.4–4× above): the place to look if PNG decoding ever shows up in a profile.

/// <summary>
/// A small, dependency-free PNG reader and writer for turning images into arrays and arrays into previews.
/// <para>
/// Decoding supports every standard PNG: colour types 0/2/3/4/6, bit depths 1/2/4/8/16, all five row filters
/// and Adam7 interlacing. Grayscale images (with or without alpha) yield their raw sample values exactly
/// (0..2^depth−1, e.g. 0..255 or 0..65535). Colour images (RGB, RGBA, palette) yield the ITU-R BT.601 luma
/// Y = 0.299 R + 0.587 G + 0.114 B computed on the raw sample values, so 16-bit RGB gives 0..65535.
/// Alpha (an alpha channel or a tRNS chunk) is ignored: pixels are not composited onto any background.
/// Gamma, colour-profile and other ancillary chunks are ignored too.
/// </para>
/// <para>
/// Safety: <see cref="ReadInfo"/> reads only the signature and IHDR, and <see cref="Decode"/> refuses
/// width × height above its limit before inflating. The inflater's output is capped at exactly the byte count
/// the header implies; data that inflates to more (a decompression bomb) or less is refused. The CRC of every
/// chunk that is used (IHDR, PLTE, IDAT, IEND) is verified; ancillary chunks are skipped unchecked because
/// their content is never read. Unknown critical chunks are refused, as the PNG specification requires.
/// </para>
/// </summary>
public static class PngCodec
{
    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];
    private const string ReExport = "re-export it as a standard PNG";

    /// <summary>Reads the signature and IHDR only; throws <see cref="ArrayFormatException"/> if they are invalid.</summary>
    public static PngInfo ReadInfo(ReadOnlySpan<byte> png)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature))
            throw new ArrayFormatException("The input is not a PNG image (the 8-byte PNG signature is missing); upload a .png file, or send .npy for raw arrays.");
        if (png.Length < 8 + 12 + 13)
            throw new ArrayFormatException($"The PNG ends inside its header (IHDR) chunk; the file is truncated: {ReExport} and upload the complete file.");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(png[8..]);
        if (!png.Slice(12, 4).SequenceEqual("IHDR"u8) || length != 13)
            throw new ArrayFormatException($"The PNG does not start with a 13-byte IHDR chunk; {ReExport}.");
        CheckCrc(png.Slice(12, 4 + 13), BinaryPrimitives.ReadUInt32BigEndian(png[(16 + 13)..]), "IHDR");

        var ihdr = png.Slice(16, 13);
        uint width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        int bitDepth = ihdr[8], colorType = ihdr[9], compression = ihdr[10], filter = ihdr[11], interlace = ihdr[12];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw new ArrayFormatException($"The PNG declares a {width}×{height} image; both sides must be between 1 and 2^31−1: {ReExport}.");
        bool validDepth = colorType switch
        {
            0 => bitDepth is 1 or 2 or 4 or 8 or 16,
            3 => bitDepth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => bitDepth is 8 or 16,
            _ => throw new ArrayFormatException($"The PNG colour type {colorType} does not exist (0, 2, 3, 4 and 6 do); {ReExport}."),
        };
        if (!validDepth)
            throw new ArrayFormatException($"The PNG combines colour type {colorType} with bit depth {bitDepth}, which the PNG standard forbids; {ReExport}.");
        if (compression != 0 || filter != 0)
            throw new ArrayFormatException($"The PNG uses compression method {compression} / filter method {filter}; only 0/0 exists: {ReExport}.");
        if (interlace > 1)
            throw new ArrayFormatException($"The PNG interlace method {interlace} does not exist (0 and 1 do); {ReExport}.");
        return new PngInfo((int)width, (int)height, bitDepth, colorType, interlace == 1);
    }

    /// <summary>
    /// Reads the signature and IHDR (the first 33 bytes are enough) and checks the size against <paramref name="maxPixels"/>:
    /// what <see cref="Decode"/> checks first, for a caller that has only the first bytes of a file yet.
    /// </summary>
    public static PngInfo CheckHeader(ReadOnlySpan<byte> png, long maxPixels)
    {
        var info = ReadInfo(png);
        if (info.PixelCount > maxPixels || info.PixelCount > Array.MaxLength)
            throw new ArrayTooLargeException(
                $"The PNG is {info.Width}×{info.Height} = {info.PixelCount:N0} pixels, over the {maxPixels:N0}-pixel limit; downscale or crop it first.");
        return info;
    }

    /// <summary>
    /// Decodes a PNG into a Height × Width array: raw sample values for grayscale, BT.601 luma for colour
    /// (alpha ignored). Throws <see cref="ArrayTooLargeException"/> when width × height exceeds
    /// <paramref name="maxPixels"/>, before anything is inflated, and <see cref="ArrayFormatException"/>
    /// for truncated, corrupt or over-long data.
    /// </summary>
    public static Array2D Decode(ReadOnlySpan<byte> png, long maxPixels)
    {
        var info = CheckHeader(png, maxPixels);

        var layout = new Layout(info);
        long expected = layout.RawLength();
        if (expected > Array.MaxLength)
            throw new ArrayTooLargeException(
                $"The PNG's {info.Width}×{info.Height} pixels at {layout.BitsPerPixel} bits each are too large to decode; downscale it or reduce its bit depth.");

        var (compressed, palette) = ReadChunks(png, info);
        byte[] raw = Inflate(compressed, (int)expected);
        var result = Array2D.CreateUninitialized(info.Height, info.Width); // every pixel is decoded below (Adam7 passes cover each once)
        var decoder = new RowDecoder(layout, info, palette, result);
        int offset = 0;
        foreach (var pass in Passes(info)) offset = decoder.DecodePass(raw, offset, pass);
        return result;
    }

    /// <summary>
    /// An 8-bit grayscale PNG of <paramref name="array"/> scaled min–max over its finite values to 0..255
    /// (rounded). A constant array maps to all 0; NaN maps to 0, −∞ to 0 and +∞ to 255. Meant for viewing, not
    /// for round-tripping data: use .npy (or <see cref="EncodeGray16"/> for integer images) for that.
    /// </summary>
    public static byte[] EncodePreview(Array2D array)
    {
        ArgumentNullException.ThrowIfNull(array);
        RequireNonEmpty(array);
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in array.Data)
        {
            if (!double.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        // Halving both ends keeps max − min finite even for ±double.MaxValue.
        double halfMin = min * 0.5, halfRange = max * 0.5 - halfMin;
        double scale = halfRange > 0 ? 255.0 / halfRange : 0.0;

        return Encode(array, bitDepth: 8, (row, dst) =>
        {
            for (int x = 0; x < row.Length; x++)
            {
                double v = row[x];
                double level = double.IsNaN(v) ? 0
                    : double.IsPositiveInfinity(v) ? 255
                    : double.IsNegativeInfinity(v) ? 0
                    : Math.Round((v * 0.5 - halfMin) * scale);
                dst[x] = (byte)Math.Clamp(level, 0, 255);
            }
        });
    }

    /// <summary>
    /// A 16-bit grayscale PNG whose samples are the array's values rounded to the nearest integer and
    /// saturated to 0..65535 (NaN → 0). Integer arrays in that range round-trip exactly through <see cref="Decode"/>.
    /// </summary>
    public static byte[] EncodeGray16(Array2D array)
    {
        ArgumentNullException.ThrowIfNull(array);
        RequireNonEmpty(array);
        return Encode(array, bitDepth: 16, (row, dst) =>
        {
            for (int x = 0; x < row.Length; x++)
            {
                double v = row[x];
                ushort sample = double.IsNaN(v) ? (ushort)0 : (ushort)Math.Clamp(Math.Round(v), 0, ushort.MaxValue);
                BinaryPrimitives.WriteUInt16BigEndian(dst[(x * 2)..], sample);
            }
        });
    }

    private delegate void RowWriter(ReadOnlySpan<double> row, Span<byte> dst);

    private static byte[] Encode(Array2D array, int bitDepth, RowWriter writeRow)
    {
        int stride = checked(array.Cols * (bitDepth / 8));
        var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            var line = new byte[stride + 1]; // filter byte 0 (None), then the samples
            for (int y = 0; y < array.Rows; y++)
            {
                writeRow(array.Row(y), line.AsSpan(1));
                z.Write(line);
            }
        }

        var png = new MemoryStream(capacity: (int)Math.Min(int.MaxValue, idat.Length + 64));
        png.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)array.Cols);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)array.Rows);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = 0; // grayscale; compression, filter and interlace stay 0
        WriteChunk(png, "IHDR"u8, ihdr);
        WriteChunk(png, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        var crc = new Crc32();
        crc.Append(type);
        crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc.GetCurrentHashAsUInt32());
        png.Write(word);
    }

    private static void RequireNonEmpty(Array2D array)
    {
        if (array.IsEmpty)
            throw new ArrayFormatException(
                $"The array has shape ({array.Rows}, {array.Cols}) and PNG images need at least 1×1 pixels; download it as .npy instead.");
    }

    /// <summary>The IDAT payloads joined (positioned at the start, ready to inflate) and the palette's luma values.</summary>
    private static (MemoryStream Compressed, double[]? Palette) ReadChunks(ReadOnlySpan<byte> png, PngInfo info)
    {
        int pos = 8 + 12 + 13; // past the signature and the IHDR that ReadInfo checked
        double[]? palette = null;
        var idat = new MemoryStream();
        bool sawIdat = false, idatEnded = false;
        while (true)
        {
            if (png.Length - pos < 12)
                throw new ArrayFormatException($"The PNG ends before its IEND chunk; the file is truncated: upload the complete file.");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            var type = png.Slice(pos + 4, 4);
            string typeName = System.Text.Encoding.ASCII.GetString(type);
            if (length > int.MaxValue || png.Length - pos - 12 < length)
                throw new ArrayFormatException($"The PNG's {typeName} chunk claims {length} bytes but the file ends sooner; the file is truncated: upload the complete file.");
            var data = png.Slice(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            pos += 12 + (int)length;

            bool isIdat = type.SequenceEqual("IDAT"u8);
            if (sawIdat && !isIdat) idatEnded = true;
            if (isIdat)
            {
                if (idatEnded)
                    throw new ArrayFormatException($"The PNG's IDAT chunks are not consecutive, which the standard forbids; {ReExport}.");
                CheckCrc(png.Slice(pos - 12 - (int)length + 4, 4 + (int)length), crc, typeName);
                idat.Write(data);
                sawIdat = true;
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                CheckCrc(png.Slice(pos - 12 - (int)length + 4, 4 + (int)length), crc, typeName);
                if (palette is not null || sawIdat || length % 3 != 0 || length == 0 || length > 768)
                    throw new ArrayFormatException($"The PNG's palette (PLTE) is duplicated, misplaced or not 1–256 RGB entries; {ReExport}.");
                palette = new double[length / 3];
                for (int i = 0; i < palette.Length; i++)
                    palette[i] = Luma(data[3 * i], data[3 * i + 1], data[3 * i + 2]);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                CheckCrc(png.Slice(pos - 12 - (int)length + 4, 4 + (int)length), crc, typeName);
                break;
            }
            else if (type.SequenceEqual("IHDR"u8) || (type[0] & 0x20) == 0)
            {
                throw new ArrayFormatException($"The PNG contains a {typeName} chunk this decoder cannot skip (a second IHDR or an unknown critical chunk); {ReExport}.");
            }
            // Ancillary chunks (tRNS, gAMA, tEXt, …) are skipped: alpha and colour management are ignored.
        }
        if (!sawIdat)
            throw new ArrayFormatException($"The PNG has no image data (IDAT chunk); {ReExport}.");
        if (info.ColorType == 3 && palette is null)
            throw new ArrayFormatException($"The PNG is a palette image without a palette (PLTE chunk); {ReExport}.");
        idat.Position = 0;
        return (idat, info.ColorType == 3 ? palette : null);
    }

    private static byte[] Inflate(MemoryStream compressed, int expected)
    {
        var raw = new byte[expected];
        try
        {
            using var z = new ZLibStream(compressed, CompressionMode.Decompress);
            int got = z.ReadAtLeast(raw, expected, throwOnEndOfStream: false);
            if (got < expected)
                throw new ArrayFormatException(
                    $"The PNG's image data inflates to {got} bytes but its header needs {expected}; the file is truncated or corrupt: {ReExport}.");
            // The cap: one byte more than the header allows is enough to refuse, however much more there is.
            Span<byte> probe = stackalloc byte[1];
            if (z.Read(probe) > 0)
                throw new ArrayFormatException(
                    $"The PNG's image data inflates to more than the {expected} bytes its header allows (corrupt, or a decompression bomb); {ReExport}.");
        }
        // InvalidDataException for corrupt data; ZLibException (an IOException, not InvalidDataException) for streams zlib
        // refuses outright, such as one whose header asks for a preset dictionary (FDICT), which PNG forbids.
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new ArrayFormatException($"The PNG's compressed image data is corrupt ({e.Message}); {ReExport}.");
        }
        return raw;
    }

    private static void CheckCrc(ReadOnlySpan<byte> typeAndData, uint expected, string chunk)
    {
        if (Crc32.HashToUInt32(typeAndData) != expected)
            throw new ArrayFormatException($"The PNG's {chunk} chunk fails its CRC check; the file is corrupt: {ReExport} and upload it again.");
    }

    internal static double Luma(double r, double g, double b) => 0.299 * r + 0.587 * g + 0.114 * b;

    private static readonly (int Xs, int Ys, int Xd, int Yd)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    private static int PassExtent(int size, int start, int step) => size > start ? (size - start + step - 1) / step : 0;

    /// <summary>A (sub-)image of the data: its size and where its pixels go (start and step in x and y).</summary>
    private readonly record struct Pass(int Width, int Height, int Xs, int Ys, int Xd, int Yd);

    /// <summary>The (sub-)images the data holds, in order: the whole image, or the non-empty Adam7 passes.</summary>
    private static IEnumerable<Pass> Passes(PngInfo info)
    {
        if (!info.Interlaced)
        {
            yield return new Pass(info.Width, info.Height, 0, 0, 1, 1);
            yield break;
        }
        foreach (var (xs, ys, xd, yd) in Adam7)
        {
            int pw = PassExtent(info.Width, xs, xd), ph = PassExtent(info.Height, ys, yd);
            if (pw > 0 && ph > 0) yield return new Pass(pw, ph, xs, ys, xd, yd);
        }
    }

    /// <summary>Channel counts and the exact length of the filtered, uncompressed data.</summary>
    private readonly struct Layout(PngInfo info)
    {
        public int Channels { get; } = info.ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };

        public int BitsPerPixel => Channels * info.BitDepth;

        public long RawLength()
        {
            long total = 0;
            foreach (var pass in Passes(info)) total += PassLength(pass.Width, pass.Height);
            return total;
        }

        private long PassLength(int width, int height) => height * (1 + ((long)width * BitsPerPixel + 7) / 8);
    }

    /// <summary>Undoes the row filters of one (sub-)image and writes its pixels into the result.</summary>
    private sealed class RowDecoder(Layout layout, PngInfo info, double[]? palette, Array2D result)
    {
        private readonly int _channels = layout.Channels;
        private readonly int _bitsPerPixel = layout.BitsPerPixel;

        /// <summary>Decodes <paramref name="pass"/>, whose filtered rows start at <paramref name="offset"/>; returns where the next pass starts.</summary>
        public int DecodePass(byte[] raw, int offset, Pass pass)
        {
            var (pw, ph, xs, ys, xd, yd) = pass;
            int stride = (int)(((long)pw * _bitsPerPixel + 7) / 8);
            int bpp = Math.Max(1, _bitsPerPixel / 8);
            for (int y = 0; y < ph; y++)
            {
                byte filter = raw[offset];
                var row = raw.AsSpan(offset + 1, stride);
                ReadOnlySpan<byte> prior = y == 0 ? default : raw.AsSpan(offset - stride, stride);
                Unfilter(filter, row, prior, bpp, y);
                Emit(row, result.Row(ys + y * yd), pw, xs, xd);
                offset += stride + 1;
            }
            return offset;
        }

        private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp, int y)
        {
            bool first = prior.IsEmpty; // the row above the first row of a pass is all zeros
            switch (filter)
            {
                case 0:
                    break;
                case 1:
                    for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                    break;
                case 2:
                    if (!first)
                        for (int i = 0; i < row.Length; i++) row[i] += prior[i];
                    break;
                case 3:
                    for (int i = 0; i < row.Length; i++)
                    {
                        int left = i >= bpp ? row[i - bpp] : 0, up = first ? 0 : prior[i];
                        row[i] += (byte)((left + up) >> 1);
                    }
                    break;
                case 4:
                    for (int i = 0; i < row.Length; i++)
                    {
                        int a = i >= bpp ? row[i - bpp] : 0, b = first ? 0 : prior[i], c = i >= bpp && !first ? prior[i - bpp] : 0;
                        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                        row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                    }
                    break;
                default:
                    throw new ArrayFormatException($"The PNG's row {y} uses filter type {filter}; only 0–4 exist, so the data is corrupt: {ReExport}.");
            }
        }

        private void Emit(ReadOnlySpan<byte> row, Span<double> dst, int pw, int xs, int xd)
        {
            int depth = info.BitDepth;
            switch (info.ColorType)
            {
                case 0 or 4 when depth == 8:
                    for (int x = 0; x < pw; x++) dst[xs + x * xd] = row[x * _channels];
                    break;
                case 0 or 4 when depth == 16:
                    for (int x = 0; x < pw; x++) dst[xs + x * xd] = BinaryPrimitives.ReadUInt16BigEndian(row[(x * _channels * 2)..]);
                    break;
                case 0:
                    for (int x = 0; x < pw; x++) dst[xs + x * xd] = PackedSample(row, x, depth);
                    break;
                case 3:
                    var pal = palette!;
                    for (int x = 0; x < pw; x++)
                    {
                        int index = depth == 8 ? row[x] : PackedSample(row, x, depth);
                        if (index >= pal.Length)
                            throw new ArrayFormatException($"The PNG uses palette index {index} but its palette has {pal.Length} entries; {ReExport}.");
                        dst[xs + x * xd] = pal[index];
                    }
                    break;
                case 2 or 6 when depth == 8:
                    for (int x = 0; x < pw; x++)
                    {
                        int i = x * _channels;
                        dst[xs + x * xd] = Luma(row[i], row[i + 1], row[i + 2]);
                    }
                    break;
                default: // colour types 2 and 6 at 16 bits
                    for (int x = 0; x < pw; x++)
                    {
                        var px = row[(x * _channels * 2)..];
                        dst[xs + x * xd] = Luma(
                            BinaryPrimitives.ReadUInt16BigEndian(px),
                            BinaryPrimitives.ReadUInt16BigEndian(px[2..]),
                            BinaryPrimitives.ReadUInt16BigEndian(px[4..]));
                    }
                    break;
            }
        }

        private static int PackedSample(ReadOnlySpan<byte> row, int x, int depth)
        {
            // Sub-byte samples are packed most-significant bits first.
            int bit = x * depth;
            int shift = 8 - depth - (bit & 7);
            return (row[bit >> 3] >> shift) & ((1 << depth) - 1);
        }
    }
}
