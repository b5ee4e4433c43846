using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Core.Fits;

/// <summary>
/// Writes an array as a single-HDU FITS file: BITPIX −64 (big-endian float64, NaN kept), shape (NAXIS2, NAXIS1) =
/// (rows, cols), followed by caller-supplied cards (an input image's keywords, HISTORY). Streams the data in chunks,
/// so a large result is never copied whole.
/// </summary>
public static class FitsWriter
{
    private const int ChunkBytes = 1 << 20; // a multiple of 8; the final padding is written separately

    /// <summary>
    /// Keywords the writer sets itself, or that describe the bytes of another file (scaling, checksums, data range),
    /// and so are never copied from an input header.
    /// </summary>
    public static readonly IReadOnlySet<string> StructuralKeywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT", "GROUPS", "BSCALE", "BZERO", "BLANK",
        "CHECKSUM", "DATASUM", "DATAMIN", "DATAMAX", "END",
    };

    /// <summary>True for keywords <see cref="StructuralKeywords"/> lists, and NAXISn.</summary>
    public static bool IsStructural(string keyword) =>
        StructuralKeywords.Contains(keyword) || (keyword.StartsWith("NAXIS", StringComparison.Ordinal) && keyword.Length > 5 && keyword[5..].All(char.IsAsciiDigit));

    /// <summary>The whole file as bytes.</summary>
    public static byte[] Write(Array2D array, IEnumerable<FitsCard>? extraCards = null)
    {
        using var stream = new MemoryStream();
        WriteAsync(stream, array, extraCards).GetAwaiter().GetResult(); // a MemoryStream completes synchronously
        return stream.ToArray();
    }

    /// <summary>Bytes <see cref="WriteAsync"/> produces.</summary>
    public static long EncodedLength(Array2D array, IEnumerable<FitsCard>? extraCards = null) =>
        BuildHeader(array, extraCards).Length + FitsFormat.PadToBlock(array.Length * sizeof(double));

    /// <summary>Writes header, data and padding to <paramref name="stream"/>.</summary>
    public static async Task WriteAsync(Stream stream, Array2D array, IEnumerable<FitsCard>? extraCards = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        await stream.WriteAsync(BuildHeader(array, extraCards), cancellationToken);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var values = array.Data;
            for (long done = 0; done < values.Length;)
            {
                int items = (int)Math.Min(ChunkBytes / sizeof(double), values.Length - done);
                for (int i = 0; i < items; i++)
                    BinaryPrimitives.WriteDoubleBigEndian(chunk.AsSpan(i * sizeof(double)), values[done + i]); // FITS is big-endian
                await stream.WriteAsync(chunk.AsMemory(0, items * sizeof(double)), cancellationToken);
                done += items;
            }
            long dataBytes = array.Length * sizeof(double);
            int padding = (int)(FitsFormat.PadToBlock(dataBytes) - dataBytes);
            if (padding > 0)
            {
                chunk.AsSpan(0, padding).Clear(); // data padding is zeros
                await stream.WriteAsync(chunk.AsMemory(0, padding), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static byte[] BuildHeader(Array2D array, IEnumerable<FitsCard>? extraCards)
    {
        var text = new StringBuilder();
        text.Append(FitsCards.Logical("SIMPLE", true, "conforms to FITS standard").Raw);
        text.Append(FitsCards.Integer("BITPIX", -64, "IEEE 754 float64").Raw);
        text.Append(FitsCards.Integer("NAXIS", 2, "number of array dimensions").Raw);
        text.Append(FitsCards.Integer("NAXIS1", array.Cols, "columns").Raw);
        text.Append(FitsCards.Integer("NAXIS2", array.Rows, "rows").Raw);
        foreach (var card in extraCards ?? [])
            if (!IsStructural(card.Keyword)) text.Append(card.Raw);
        text.Append("END".PadRight(FitsFormat.CardLength));
        int padded = (int)FitsFormat.PadToBlock(text.Length);
        text.Append(' ', padded - text.Length); // header padding is spaces
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}

/// <summary>Builds header cards in the standard's fixed format.</summary>
public static class FitsCards
{
    /// <summary>An integer-valued card.</summary>
    public static FitsCard Integer(string keyword, long value, string? comment = null) =>
        Card(keyword, value.ToString(CultureInfo.InvariantCulture).PadLeft(20), comment);

    /// <summary>A logical card (T or F in column 30).</summary>
    public static FitsCard Logical(string keyword, bool value, string? comment = null) => Card(keyword, (value ? "T" : "F").PadLeft(20), comment);

    /// <summary>A real-valued card, written so it reads back to the same float64.</summary>
    public static FitsCard Real(string keyword, double value, string? comment = null)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "FITS header values must be finite.");
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('.') && !text.Contains('E')) text += ".0"; // a real needs a decimal point or an exponent
        return Card(keyword, text.PadLeft(20), comment);
    }

    /// <summary>
    /// HISTORY cards holding <paramref name="text"/>, over as many 72-character lines as it needs, broken at spaces
    /// where possible (a reader joins the lines with a space to get the text back).
    /// </summary>
    public static IEnumerable<FitsCard> History(string text)
    {
        string rest = new([.. text.Select(c => c is >= ' ' and <= '~' ? c : '?')]); // headers are printable ASCII
        do
        {
            int cut = rest.Length <= 72 ? rest.Length : rest.LastIndexOf(' ', 72) is > 0 and var space ? space : 72;
            yield return new FitsCard("HISTORY", ("HISTORY " + rest[..cut]).PadRight(FitsFormat.CardLength));
            rest = rest[cut..].TrimStart(' ');
        }
        while (rest.Length > 0);
    }

    private static FitsCard Card(string keyword, string value, string? comment)
    {
        string raw = keyword.PadRight(8) + "= " + value;
        if (comment is not null) raw += " / " + comment;
        if (raw.Length > FitsFormat.CardLength) raw = raw[..FitsFormat.CardLength]; // only the comment is ever cut
        return new FitsCard(keyword, raw.PadRight(FitsFormat.CardLength));
    }
}

/// <summary>
/// Keeps a result on the sky: moves the reference pixel (CRPIXn) by the convolution's crop and scales the pixel
/// scale (CDi_j, or CDELTi / PCi_j) by its stride, so every output pixel maps where its input pixels did.
/// </summary>
public static class FitsWcs
{
    /// <summary>
    /// The cards of <paramref name="source"/> (structural ones dropped) with the primary WCS adjusted. Output pixel
    /// (0, 0) — before the stride — lies over input pixel (<paramref name="offsetY"/>, <paramref name="offsetX"/>)
    /// (−1 for a 3-wide kernel in full mode, 0 in same mode); output pixel k is output k·stride before it.
    /// </summary>
    public static List<FitsCard> ForResult(FitsHeader source, double offsetY, double offsetX, int strideY, int strideX)
    {
        ArgumentNullException.ThrowIfNull(source);
        double[] offset = [offsetX, offsetY]; // FITS axis 1 is the column (x) axis
        int[] stride = [strideX, strideY];
        bool hasCd = source.Cards.Any(c => c.Keyword.StartsWith("CD", StringComparison.Ordinal) && c.Keyword.Contains('_'));
        bool hasPc = source.Cards.Any(c => c.Keyword.StartsWith("PC", StringComparison.Ordinal) && c.Keyword.Contains('_'));
        bool scalePc = !hasCd && strideX != strideY; // CDELT scales world axes, so unequal pixel strides need PC
        var cards = new List<FitsCard>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var card in source.Cards)
        {
            if (FitsWriter.IsStructural(card.Keyword)) continue;
            present.Add(card.Keyword);
            cards.Add(Adjusted(card) ?? card);
        }
        // Defaults the standard implies (CDELTi = 1, PCi_j = identity) must be written once they change.
        if (!hasCd && strideX == strideY && strideX != 1 && present.Contains("CRPIX1"))
            foreach (int i in new[] { 1, 2 })
                if (!present.Contains($"CDELT{i}")) cards.Add(FitsCards.Real($"CDELT{i}", strideX, "ConvService: stride"));
        if (scalePc && present.Contains("CRPIX1"))
            foreach (int i in new[] { 1, 2 })
                foreach (int j in new[] { 1, 2 })
                    if (!present.Contains($"PC{i}_{j}")) cards.Add(FitsCards.Real($"PC{i}_{j}", i == j ? stride[j - 1] : 0.0, "ConvService: stride"));
        return cards;

        FitsCard? Adjusted(FitsCard card)
        {
            // A value the adjustment would push out of range (a corrupt header) is copied as it was, not failed on.
            return AdjustedValue(card) is { } adjusted && double.IsFinite(adjusted.Value)
                ? FitsCards.Real(card.Keyword, adjusted.Value, adjusted.Comment) : null;
        }

        (double Value, string Comment)? AdjustedValue(FitsCard card)
        {
            string k = card.Keyword;
            if (!card.HasValue || card.Value is not { } text || !FitsHeader.TryParseReal(text, out double v)) return null;
            if (k is "CRPIX1" or "CRPIX2")
            {
                int axis = k[5] - '1';
                return ((v - 1 - offset[axis]) / stride[axis] + 1, "ConvService: moved for crop and stride");
            }
            if (k.Length == 5 && k.StartsWith("CD", StringComparison.Ordinal) && k[3] == '_' && k[2] is '1' or '2' && k[4] is '1' or '2')
                return stride[k[4] - '1'] == 1 ? null : (v * stride[k[4] - '1'], "ConvService: scaled by stride");
            if (!hasCd && !scalePc && k is "CDELT1" or "CDELT2" && strideX != 1)
                return (v * strideX, "ConvService: scaled by stride");
            if (scalePc && hasPc && k.Length == 5 && k.StartsWith("PC", StringComparison.Ordinal) && k[3] == '_' && k[2] is '1' or '2' && k[4] is '1' or '2')
                return (v * stride[k[4] - '1'], "ConvService: scaled by stride");
            return null;
        }
    }
}
