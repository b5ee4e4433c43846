using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Core.Fits;

/// <summary>What <see cref="FitsReader.Read"/> may accept; every cap is checked before anything large is allocated.</summary>
/// <param name="MaxPixels">Most pixels in the image (NAXIS1 × NAXIS2).</param>
/// <param name="MaxHeaderBytes">Longest header of one HDU, in bytes (2880 = 36 cards); a header without END stops here.</param>
/// <param name="MaxInflatedBytes">Largest file a gzip-compressed upload may inflate to.</param>
public readonly record struct FitsReadLimits(long MaxPixels, int MaxHeaderBytes, long MaxInflatedBytes);

/// <summary>A 2-D image read from a FITS file.</summary>
/// <param name="Data">Physical values (BZERO + BSCALE × raw; BLANK → NaN) as float64, shape (NAXIS2, NAXIS1).</param>
/// <param name="Header">The image HDU's header cards.</param>
/// <param name="HduIndex">Which HDU it came from (0 = primary).</param>
public sealed record FitsImage(Array2D Data, FitsHeader Header, int HduIndex);

/// <summary>
/// Reads the 2-D image subset of FITS (version 4.0): the primary HDU or an IMAGE extension, every BITPIX
/// (8, 16, 32, 64, −32, −64), big-endian, with BSCALE/BZERO applied and BLANK mapped to NaN. Refuses what it
/// does not read (tables, random groups, cubes) with <see cref="ArrayUnsupportedException"/>, malformed or
/// truncated files with <see cref="ArrayFormatException"/>, and sizes over the limits with
/// <see cref="ArrayTooLargeException"/> — all before the pixel buffer is allocated.
/// </summary>
public static class FitsReader
{
    private static readonly byte[] SimpleCard = "SIMPLE  ="u8.ToArray();

    /// <summary>True when <paramref name="bytes"/> begins like a FITS file (a SIMPLE card).</summary>
    public static bool LooksLikeFits(ReadOnlySpan<byte> bytes) => bytes.StartsWith(SimpleCard);

    /// <summary>True when <paramref name="bytes"/> begins with the gzip magic number.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;

    /// <summary>
    /// Reads the image in <paramref name="file"/> (gzip-compressed or not). <paramref name="hdu"/> picks the HDU by
    /// index (0 = primary) or EXTNAME; null takes the primary HDU if it has data, else the first IMAGE extension.
    /// </summary>
    public static FitsImage Read(byte[] file, FitsReadLimits limits, string? hdu = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (IsGzip(file)) file = Inflate(file, limits.MaxInflatedBytes);
        if (!LooksLikeFits(file)) throw NotFits();
        return Walk(file, limits, hdu, complete: true)!;
    }

    /// <summary>
    /// Checks the first bytes of an upload as they arrive, before the rest is read: not FITS, a header over the limit,
    /// or the selected image (the HDU <see cref="Read"/> would pick) over the pixel limit throw the same exceptions
    /// <see cref="Read"/> would throw for the whole file. What lies beyond <paramref name="prefix"/> is not judged; a
    /// gzip body is left to <see cref="Read"/>, whose inflater stops at the limit.
    /// </summary>
    public static void CheckPrefix(ReadOnlySpan<byte> prefix, FitsReadLimits limits, string? hdu = null)
    {
        if (IsGzip(prefix) || prefix.Length < SimpleCard.Length) return;
        if (!LooksLikeFits(prefix)) throw NotFits();
        Walk(prefix, limits, hdu, complete: false);
    }

    private static ArrayFormatException NotFits() =>
        new("This is not a FITS file: it must begin with the card 'SIMPLE  =                    T'. Send a FITS image (or .fits.gz).");

    /// <summary>
    /// Walks the HDUs of <paramref name="file"/> to the selected one and decodes it (<paramref name="complete"/>), or, over
    /// a prefix, checks what the prefix shows of it and returns null where the prefix ends.
    /// </summary>
    private static FitsImage? Walk(ReadOnlySpan<byte> file, FitsReadLimits limits, string? hdu, bool complete)
    {
        int? wantIndex = null;
        if (hdu is not null && int.TryParse(hdu, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed)) wantIndex = parsed;
        var seen = new List<string>();
        long offset = 0;
        for (int index = 0; offset < file.Length; index++)
        {
            if (ReadHeader(file, offset, limits.MaxHeaderBytes, index, complete) is not var (header, headerBytes)) return null; // the prefix ends inside it
            string kind = index == 0 ? "primary" : (header.GetString("XTENSION") ?? "").Trim();
            var axes = Axes(header, index);
            long bytesPer = Math.Abs(Bitpix(header, index)) / 8;
            long pcount = header.GetLong("PCOUNT") ?? 0, gcount = header.GetLong("GCOUNT") ?? 1;
            if (pcount < 0 || gcount < 0)
                throw new ArrayFormatException($"HDU {index} declares PCOUNT = {pcount}, GCOUNT = {gcount}: both must be ≥ 0.");
            bool groups = index == 0 && header.GetString("GROUPS") == "T";
            long dataBytes = DataBytes(axes, bytesPer, pcount, gcount, groups, index);
            long dataStart = offset + headerBytes;
            seen.Add($"{index}: {(kind.Length == 0 ? "?" : kind)} [{string.Join("×", axes)}]");

            bool selected = hdu is null
                ? axes.Length > 0 && (index == 0 || kind == "IMAGE")
                : wantIndex == index || (wantIndex is null && string.Equals(header.GetString("EXTNAME"), hdu, StringComparison.OrdinalIgnoreCase));
            if (selected && !complete)
            {
                CheckImage(header, index, kind, axes, limits.MaxPixels);
                return null;
            }
            if (selected) return new FitsImage(Decode(file, header, index, kind, axes, dataStart, limits.MaxPixels), header, index);

            if (dataStart + dataBytes > file.Length)
            {
                if (!complete) return null; // the next HDU lies beyond the prefix
                throw new ArrayFormatException(
                    $"The file is truncated: HDU {index} declares {dataBytes:N0} data bytes but only {Math.Max(0, file.Length - dataStart):N0} follow its header. Send the complete file.");
            }
            offset = dataStart + FitsFormat.PadToBlock(dataBytes);
        }
        if (!complete) return null;
        string contents = string.Join("; ", seen);
        throw hdu is null
            ? new ArrayUnsupportedException($"The FITS file has no 2-D image HDU (it holds {contents}). Send a file with an image in the primary HDU or an IMAGE extension.")
            : new ArrayFormatException($"The FITS file has no HDU '{hdu}' (it holds {contents}). Pass ?hdu= an index from 0 or an EXTNAME.");
    }

    /// <summary>Splits one header into cards up to END; returns it and its padded length in bytes.</summary>
    /// <remarks>Over a prefix (<paramref name="complete"/> false) a header the prefix ends inside returns null.</remarks>
    private static (FitsHeader Header, long Bytes)? ReadHeader(ReadOnlySpan<byte> file, long offset, int maxHeaderBytes, int index, bool complete)
    {
        var cards = new List<FitsCard>();
        for (long pos = offset; ; pos += FitsFormat.CardLength)
        {
            if (pos - offset >= maxHeaderBytes)
                throw new ArrayTooLargeException(
                    $"HDU {index}'s header has no END card within {maxHeaderBytes:N0} bytes (ConvService:Limits:MaxFitsHeaderBytes). The file is malformed or its header is too long.");
            if (pos + FitsFormat.CardLength > file.Length && !complete) return null;
            if (pos + FitsFormat.CardLength > file.Length)
                throw new ArrayFormatException($"The file ends inside HDU {index}'s header, before its END card: the file is truncated or not FITS.");
            var raw = file.Slice((int)pos, FitsFormat.CardLength);
            foreach (byte b in raw)
                if (b is < 0x20 or > 0x7e)
                    throw new ArrayFormatException($"HDU {index}'s header has a non-ASCII byte 0x{b:x2} at offset {pos:N0}: FITS headers are printable ASCII. The file is corrupt.");
            string card = Encoding.ASCII.GetString(raw);
            string keyword = card[..8].TrimEnd();
            if (keyword == "END") return (new FitsHeader(cards), FitsFormat.PadToBlock(pos + FitsFormat.CardLength - offset));
            cards.Add(new FitsCard(keyword, card));
        }
    }

    private static int Bitpix(FitsHeader header, int index)
    {
        long bitpix = header.GetLong("BITPIX") ?? throw new ArrayFormatException($"HDU {index} has no BITPIX keyword, which FITS requires.");
        return bitpix is 8 or 16 or 32 or 64 or -32 or -64 ? (int)bitpix
            : throw new ArrayFormatException($"HDU {index} has BITPIX = {bitpix}: FITS allows only 8, 16, 32, 64, -32 and -64.");
    }

    private static long[] Axes(FitsHeader header, int index)
    {
        long naxis = header.GetLong("NAXIS") ?? throw new ArrayFormatException($"HDU {index} has no NAXIS keyword, which FITS requires.");
        if (naxis is < 0 or > 999) throw new ArrayFormatException($"HDU {index} has NAXIS = {naxis}: FITS allows 0 to 999.");
        var axes = new long[naxis];
        for (int i = 0; i < naxis; i++)
        {
            axes[i] = header.GetLong($"NAXIS{i + 1}") ?? throw new ArrayFormatException($"HDU {index} has NAXIS = {naxis} but no NAXIS{i + 1} keyword.");
            if (axes[i] < 0) throw new ArrayFormatException($"HDU {index} has NAXIS{i + 1} = {axes[i]}: axis lengths must be ≥ 0.");
        }
        return axes;
    }

    /// <summary>|BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn): the standard's data size, refused when it overflows.</summary>
    private static long DataBytes(long[] axes, long bytesPer, long pcount, long gcount, bool groups, int index)
    {
        if (axes.Length == 0) return 0;
        try
        {
            long pixels = 1;
            // Random groups (GROUPS = T, NAXIS1 = 0) count the other axes only.
            for (int i = groups ? 1 : 0; i < axes.Length; i++) pixels = checked(pixels * axes[i]);
            return checked(bytesPer * gcount * (pcount + pixels));
        }
        catch (OverflowException)
        {
            throw new ArrayTooLargeException($"HDU {index} declares axes [{string.Join(", ", axes)}]: more data than any file can hold. The header is corrupt.");
        }
    }

    private static Array2D Decode(ReadOnlySpan<byte> file, FitsHeader header, int index, string kind, long[] axes, long dataStart, long maxPixels)
    {
        CheckImage(header, index, kind, axes, maxPixels);
        return DecodeData(file, header, index, axes[1], axes[0], Bitpix(header, index), dataStart);
    }

    /// <summary>What the header alone says against reading HDU <paramref name="index"/> as a 2-D image within the pixel limit.</summary>
    private static void CheckImage(FitsHeader header, int index, string kind, long[] axes, long maxPixels)
    {
        if (index > 0 && kind != "IMAGE")
            throw new ArrayUnsupportedException($"HDU {index} is a {kind} extension, not an image: only 2-D images are read. Pass ?hdu= the index or EXTNAME of an IMAGE HDU.");
        if (index == 0 && header.GetString("GROUPS") == "T")
            throw new ArrayUnsupportedException("The primary HDU holds random groups, not an image: only 2-D images are read.");
        if (axes.Length < 2)
            throw new ArrayUnsupportedException(axes.Length == 0
                ? $"HDU {index} has no data (NAXIS = 0). Pass ?hdu= the index or EXTNAME of an HDU with a 2-D image."
                : $"HDU {index} is 1-D (NAXIS = 1, NAXIS1 = {axes[0]}): convolution here needs a 2-D image. Reshape it to 2-D, e.g. as one row.");
        for (int i = 2; i < axes.Length; i++)
            if (axes[i] != 1)
                throw new ArrayUnsupportedException(
                    $"HDU {index} is a {axes.Length}-D cube [{string.Join(" × ", axes)}] (NAXIS{i + 1} = {axes[i]}): only 2-D images are read. Send one plane as its own 2-D image.");
        long cols = axes[0], rows = axes[1];
        if (rows * cols > maxPixels) // both ≤ long range after DataBytes' overflow check
            throw new ArrayTooLargeException($"The image is {rows}×{cols} = {rows * cols:N0} pixels, over the limit of {maxPixels:N0} (ConvService:Limits:MaxImagePixels). Send a smaller image.");
    }

    private static Array2D DecodeData(ReadOnlySpan<byte> file, FitsHeader header, int index, long rows, long cols, int bitpix, long dataStart)
    {
        int bytesPer = Math.Abs(bitpix) / 8;
        long needed = rows * cols * bytesPer;
        if (dataStart + needed > file.Length)
            throw new ArrayFormatException(
                $"The file is truncated: HDU {index}'s {rows}×{cols} BITPIX {bitpix} image needs {needed:N0} data bytes but only {Math.Max(0, file.Length - dataStart):N0} follow its header. Send the complete file.");

        double bscale = header.GetDouble("BSCALE") ?? 1.0, bzero = header.GetDouble("BZERO") ?? 0.0;
        long? blank = bitpix > 0 ? header.GetLong("BLANK") : null; // BLANK is defined for integer data only
        bool scaled = bscale != 1.0 || bzero != 0.0;
        var array = Array2D.CreateUninitialized((int)rows, (int)cols);
        var source = file.Slice((int)dataStart, (int)needed);
        var values = array.Span;
        for (int i = 0; i < values.Length; i++)
        {
            var bytes = source.Slice(i * bytesPer, bytesPer);
            double value;
            if (bitpix < 0)
            {
                value = bitpix == -32 ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadDoubleBigEndian(bytes);
            }
            else
            {
                long raw = bitpix switch
                {
                    8 => bytes[0], // the one unsigned BITPIX
                    16 => BinaryPrimitives.ReadInt16BigEndian(bytes),
                    32 => BinaryPrimitives.ReadInt32BigEndian(bytes),
                    _ => BinaryPrimitives.ReadInt64BigEndian(bytes),
                };
                if (raw == blank) { values[i] = double.NaN; continue; }
                value = raw;
            }
            // The same order as astropy and numpy (raw × BSCALE, then + BZERO), in float64 for every BITPIX.
            values[i] = scaled ? value * bscale + bzero : value;
        }
        return array;
    }

    /// <summary>Inflates a gzip stream, refusing to produce more than <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Inflate(byte[] compressed, long maxBytes)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
        using var output = new MemoryStream();
        var chunk = new byte[81920];
        try
        {
            int read;
            while ((read = gzip.Read(chunk)) > 0)
            {
                if (output.Length + read > maxBytes)
                    throw new ArrayTooLargeException(
                        $"The gzip-compressed upload inflates to more than {maxBytes:N0} bytes (ConvService:Limits:MaxInflatedBytes). Send a smaller image.");
                output.Write(chunk, 0, read);
            }
        }
        // InvalidDataException for corrupt data; ZLibException (an IOException, not InvalidDataException) for streams
        // zlib itself refuses, such as one that asks for a preset dictionary.
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new ArrayFormatException($"The gzip stream is corrupt ({e.Message}). Send the file again, or uncompressed.");
        }
        return output.ToArray();
    }
}
