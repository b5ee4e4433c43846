namespace ConvService.Core.Npy;

/// <summary>
/// A validated .npy header. <paramref name="Descr"/> is numpy's dtype string (e.g. <c>&lt;f8</c>),
/// <paramref name="Version"/> the format major version (1, 2 or 3) and <paramref name="HeaderLength"/>
/// the total number of bytes before the data (magic, version, length field, dict and padding).
/// </summary>
/// <param name="Descr">numpy dtype string, e.g. <c>&lt;f8</c> or <c>|u1</c>.</param>
/// <param name="FortranOrder">True when the data is stored column-major.</param>
/// <param name="Rows">First axis length.</param>
/// <param name="Cols">Second axis length.</param>
/// <param name="Version">Format major version: 1, 2 or 3.</param>
/// <param name="HeaderLength">Offset of the first data byte from the start of the file.</param>
public sealed record NpyHeader(string Descr, bool FortranOrder, int Rows, int Cols, int Version, int HeaderLength)
{
    private readonly string _descr = Descr;

    /// <summary>numpy dtype string, e.g. <c>&lt;f8</c> or <c>|u1</c>; setting it (also through <c>with</c>) re-parses <see cref="DType"/>.</summary>
    public string Descr
    {
        get => _descr;
        init
        {
            DType = NpyDType.Parse(value);
            _descr = value;
        }
    }

    /// <summary>The decoder for <see cref="Descr"/>, parsed once; an unsupported dtype fails construction.</summary>
    internal NpyDType DType { get; private init; } = NpyDType.Parse(Descr);

    /// <summary>Bytes per stored element for <see cref="Descr"/>.</summary>
    public int ItemSize => DType.ItemSize;

    /// <summary>Exact number of data bytes that must follow the header.</summary>
    public long DataLength => (long)Rows * Cols * ItemSize;
}
