using System.Globalization;
using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Core.Fits;

/// <summary>One 80-character header card: its keyword and the raw card text.</summary>
/// <param name="Keyword">Columns 1–8, trimmed ("" for a blank card).</param>
/// <param name="Raw">The whole card, exactly 80 ASCII characters.</param>
public readonly record struct FitsCard(string Keyword, string Raw)
{
    /// <summary>True when the card has a value indicator ("= " in columns 9–10).</summary>
    public bool HasValue => Raw.Length >= 10 && Raw[8] == '=' && Raw[9] == ' ';

    /// <summary>The value valueField without its comment: a quoted string is unquoted ('' → '), other values trimmed.</summary>
    public string? Value
    {
        get
        {
            if (!HasValue) return null;
            string valueField = Raw[10..];
            int start = 0;
            while (start < valueField.Length && valueField[start] == ' ') start++;
            if (start < valueField.Length && valueField[start] == '\'')
            {
                var text = new StringBuilder();
                for (int i = start + 1; i < valueField.Length; i++)
                {
                    if (valueField[i] != '\'') { text.Append(valueField[i]); continue; }
                    if (i + 1 < valueField.Length && valueField[i + 1] == '\'') { text.Append('\''); i++; continue; }
                    return text.ToString().TrimEnd(); // trailing spaces in FITS strings are not significant
                }
                return null; // unterminated string
            }
            int slash = valueField.IndexOf('/', start);
            return (slash < 0 ? valueField[start..] : valueField[start..slash]).Trim();
        }
    }
}

/// <summary>
/// The header of one FITS HDU, as its cards in file order (without the END card). Kept as text so a result can
/// carry its input image's keywords (WCS above all) back to the client.
/// </summary>
public sealed class FitsHeader
{
    private readonly List<FitsCard> _cards;

    /// <summary>Wraps cards already split and checked.</summary>
    public FitsHeader(IEnumerable<FitsCard> cards) => _cards = [.. cards];

    /// <summary>The cards in file order, END excluded.</summary>
    public IReadOnlyList<FitsCard> Cards => _cards;

    /// <summary>The header as stored: the cards concatenated, 80 characters each, no END and no padding.</summary>
    public string Text => string.Concat(_cards.Select(c => c.Raw));

    /// <summary>Parses text produced by <see cref="Text"/> (a multiple of 80 printable ASCII characters).</summary>
    /// <exception cref="ArrayFormatException">The text is not a whole number of 80-character cards.</exception>
    public static FitsHeader Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length % FitsFormat.CardLength != 0)
            throw new ArrayFormatException($"A FITS header is a sequence of 80-character cards; this one has {text.Length} characters.");
        var cards = new List<FitsCard>(text.Length / FitsFormat.CardLength);
        for (int i = 0; i < text.Length; i += FitsFormat.CardLength)
        {
            string raw = text.Substring(i, FitsFormat.CardLength);
            cards.Add(new FitsCard(raw[..8].TrimEnd(), raw));
        }
        return new FitsHeader(cards);
    }

    /// <summary>The first card with <paramref name="keyword"/>, or null.</summary>
    public FitsCard? Find(string keyword)
    {
        foreach (var card in _cards)
            if (card.Keyword == keyword && card.HasValue) return card;
        return null;
    }

    /// <summary>The keyword's value as a string (unquoted), or null when absent.</summary>
    public string? GetString(string keyword) => Find(keyword)?.Value;

    /// <summary>The keyword's integer value, or null when absent.</summary>
    /// <exception cref="ArrayFormatException">Present but not an integer.</exception>
    public long? GetLong(string keyword)
    {
        if (GetString(keyword) is not { } text) return null;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)) return value;
        throw new ArrayFormatException($"FITS keyword {keyword} = '{Clip(text)}' is not an integer; the standard requires one.");
    }

    /// <summary>The keyword's real value (FITS allows a D exponent), or null when absent.</summary>
    /// <exception cref="ArrayFormatException">Present but not a number.</exception>
    public double? GetDouble(string keyword)
    {
        if (GetString(keyword) is not { } text) return null;
        if (TryParseReal(text, out double value)) return value;
        throw new ArrayFormatException($"FITS keyword {keyword} = '{Clip(text)}' is not a number.");
    }

    /// <summary>Parses a FITS real ("1.5", "-2E3", "1.0D-05").</summary>
    public static bool TryParseReal(string text, out double value) =>
        double.TryParse(text.Replace('D', 'E').Replace('d', 'e'), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>Constants of the FITS standard (version 4.0) that reader and writer share.</summary>
public static class FitsFormat
{
    /// <summary>Every header and data unit is padded to a multiple of this many bytes.</summary>
    public const int BlockLength = 2880;

    /// <summary>Length of one header card.</summary>
    public const int CardLength = 80;

    /// <summary>The registered media type (RFC 4047).</summary>
    public const string MediaType = "application/fits";

    /// <summary>The image media type RFC 4047 registers too.</summary>
    public const string ImageMediaType = "image/fits";

    /// <summary>Rounds <paramref name="bytes"/> up to whole blocks.</summary>
    public static long PadToBlock(long bytes) => (bytes + BlockLength - 1) / BlockLength * BlockLength;
}
