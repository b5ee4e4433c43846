using System.Globalization;
using ConvService.Core.Arrays;

namespace ConvService.Core.Npy;

/// <summary>
/// A strict parser for the one Python dict literal numpy writes into a .npy header:
/// <c>{'descr': '&lt;f8', 'fortran_order': False, 'shape': (3, 4), }</c>.
/// It accepts only the three keys, in any order, each once, with free spacing and an optional trailing
/// comma; anything else (eval-able tricks included) is refused, so nothing user-supplied is ever executed.
/// </summary>
internal ref struct NpyHeaderParser
{
    private const string ReSave = "re-save it with numpy.save";
    private readonly string _text;
    private int _pos;

    private NpyHeaderParser(string text)
    {
        _text = text;
        _pos = 0;
    }

    /// <summary>Parses the dict; shape is returned as raw dimensions, not yet checked for rank.</summary>
    public static (string Descr, bool FortranOrder, long[] Shape) Parse(string text)
    {
        var p = new NpyHeaderParser(text);
        return p.ParseDict();
    }

    private (string, bool, long[]) ParseDict()
    {
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;

        SkipSpace();
        Expect('{', "the header must be a Python dict starting with '{'");
        SkipSpace();
        while (Peek() != '}')
        {
            string key = ParseString("a quoted key");
            SkipSpace();
            Expect(':', $"expected ':' after key '{key}'");
            SkipSpace();
            switch (key)
            {
                case "descr":
                    if (descr is not null) throw Duplicate(key);
                    if (Peek() == '[')
                        throw new ArrayFormatException(
                            "The .npy array has a structured (record) dtype; send a plain numeric 2-D array, e.g. np.stack([a[f] for f in a.dtype.names], axis=-1) or a.astype('<f8').");
                    descr = ParseString("a dtype string for 'descr'");
                    break;
                case "fortran_order":
                    if (fortran is not null) throw Duplicate(key);
                    fortran = ParseBool();
                    break;
                case "shape":
                    if (shape is not null) throw Duplicate(key);
                    shape = ParseShape();
                    break;
                default:
                    throw Malformed($"unexpected key '{key}' (only 'descr', 'fortran_order' and 'shape' are allowed)");
            }
            SkipSpace();
            if (Peek() == ',')
            {
                _pos++;
                SkipSpace();
            }
            else if (Peek() != '}')
            {
                throw Malformed("expected ',' or '}' after a value");
            }
        }
        _pos++;
        SkipSpace();
        if (_pos != _text.Length)
            throw Malformed("unexpected text after the closing '}'");
        if (descr is null) throw Missing("descr");
        if (fortran is null) throw Missing("fortran_order");
        if (shape is null) throw Missing("shape");
        return (descr, fortran.Value, shape);
    }

    private long[] ParseShape()
    {
        Expect('(', "'shape' must be a tuple such as (rows, cols)");
        SkipSpace();
        var dims = new List<long>(2);
        while (Peek() != ')')
        {
            if (dims.Count >= 32)
                throw Malformed("'shape' has more than 32 dimensions");
            dims.Add(ParseDimension());
            SkipSpace();
            if (Peek() == ',')
            {
                _pos++;
                SkipSpace();
            }
            else if (Peek() != ')')
            {
                throw Malformed("expected ',' or ')' in 'shape'");
            }
        }
        _pos++;
        return dims.ToArray();
    }

    private long ParseDimension()
    {
        if (Peek() == '-')
            throw Malformed("'shape' contains a negative dimension");
        int start = _pos;
        while (_pos < _text.Length && _text[_pos] is >= '0' and <= '9') _pos++;
        if (_pos == start)
            throw Malformed("'shape' must contain only non-negative integers");
        // Python 2 numpy wrote long literals as '3L'; accept that suffix as numpy itself does.
        var digits = _text.AsSpan(start, _pos - start);
        if (_pos < _text.Length && _text[_pos] == 'L') _pos++;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > int.MaxValue)
            throw new ArrayTooLargeException(
                $"The .npy shape has a dimension of {digits.ToString()}, more than any array can hold; send a smaller array.");
        return value;
    }

    private bool ParseBool()
    {
        if (Matches("True")) return true;
        if (Matches("False")) return false;
        throw Malformed("'fortran_order' must be True or False");
    }

    private bool Matches(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) return false;
        _pos += word.Length;
        return true;
    }

    private string ParseString(string what)
    {
        char quote = Peek();
        if (quote is not ('\'' or '"'))
            throw Malformed($"expected {what}");
        int start = ++_pos;
        while (_pos < _text.Length && _text[_pos] != quote)
        {
            // Escapes never occur in the keys or dtypes we accept; refusing them keeps the parser trivial.
            if (_text[_pos] == '\\') throw Malformed("escape sequences are not allowed in header strings");
            _pos++;
        }
        if (_pos >= _text.Length) throw Malformed("unterminated string");
        string value = _text.Substring(start, _pos - start);
        _pos++;
        return value;
    }

    private void Expect(char c, string message)
    {
        if (Peek() != c) throw Malformed(message);
        _pos++;
    }

    private readonly char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void SkipSpace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private static ArrayFormatException Malformed(string what) =>
        new($"The .npy header is malformed: {what}; {ReSave}.");

    private static ArrayFormatException Duplicate(string key) => Malformed($"key '{key}' appears twice");

    private static ArrayFormatException Missing(string key) => Malformed($"key '{key}' is missing");
}
