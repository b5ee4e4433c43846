using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace ConvService.Core.Arrays;

/// <summary>
/// The checksum and statistics (min, max, sum) of a convolution output, gathered band by band while each band of
/// rows is still in cache from being written: a separate pass would read a result larger than the cache from memory
/// again (on the 72 MB full-resolution output that pass cost more than the convolution).
/// </summary>
/// <remarks>
/// <para>The checksum is XXH3-128 over the shape (two little-endian int64) followed by the XXH3-128 digest of each
/// band of <see cref="BandRows"/> rows (little-endian float64, row-major), in order. Bands are hashed separately, so
/// bands computed on different threads give the same checksum as one thread; the definition fixes the band height,
/// so the checksum of an array does not depend on how it was computed. Written as <c>xxh128:</c> + 32 hex digits.</para>
/// <para>XXH3 is not collision-resistant against an adversary: the checksum verifies and deduplicates results (with a
/// byte comparison before two arrays are treated as one), it never names user uploads, whose ids stay SHA-256.</para>
/// <para>Statistics are combined band by band in order, so the sum (and mean) is the same for any thread count.</para>
/// </remarks>
public sealed class ResultDigest
{
    /// <summary>Rows per band: the row-band size of the convolution itself, so each band is hashed right after it is written.</summary>
    public const int BandRows = 64;

    /// <summary>The prefix of a formatted checksum.</summary>
    public const string Prefix = "xxh128:";

    private UInt128[] _bands = [];
    private ArrayStatistics[] _statistics = [];
    private int _rows, _cols, _bandCount;

    /// <summary>A digest for an output of <paramref name="rows"/> × <paramref name="cols"/>.</summary>
    public ResultDigest(int rows, int cols) => Reset(rows, cols);

    /// <summary>Rows of the output being digested.</summary>
    public int Rows => _rows;

    /// <summary>Columns of the output being digested.</summary>
    public int Cols => _cols;

    /// <summary>Starts over for an output of this shape, reusing the band tables (a loop digests many outputs).</summary>
    public void Reset(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        _rows = rows;
        _cols = cols;
        _bandCount = (rows + BandRows - 1) / BandRows;
        if (_bands.Length < _bandCount)
        {
            _bands = new UInt128[_bandCount];
            _statistics = new ArrayStatistics[_bandCount];
        }
    }

    /// <summary>
    /// Digests band <paramref name="band"/>: rows [band × <see cref="BandRows"/>, …) of <paramref name="output"/>.
    /// Distinct bands may be added concurrently from different threads.
    /// </summary>
    public void AddBand(Array2D output, int band)
    {
        int first = band * BandRows;
        int end = Math.Min(_rows, first + BandRows);
        var values = output.Span.Slice(first * _cols, (end - first) * _cols);
        _bands[band] = XxHash128.HashToUInt128(MemoryMarshal.AsBytes(values));
        _statistics[band] = ArrayStatistics.Of(values);
    }

    /// <summary>Digests every band of <paramref name="output"/> in turn: for methods that do not write in row bands (FFT).</summary>
    public void AddAll(Array2D output)
    {
        CheckShape(output);
        for (int b = 0; b < _bandCount; b++) AddBand(output, b);
    }

    /// <summary>The checksum and statistics of the bands added (every band must have been added).</summary>
    public (string Checksum, ArrayStatistics Statistics) Finish()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Checksums are defined over little-endian float64 bytes.");
        var hash = new XxHash128();
        Span<byte> word = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(word, _rows);
        BinaryPrimitives.WriteInt64LittleEndian(word[8..], _cols);
        hash.Append(word);
        var statistics = new ArrayStatistics();
        for (int b = 0; b < _bandCount; b++)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(word, _bands[b]);
            hash.Append(word);
            statistics.Merge(_statistics[b]);
        }
        return (Prefix + Convert.ToHexStringLower(hash.GetCurrentHash()), statistics);
    }

    /// <summary>The checksum and statistics of <paramref name="array"/>, in one pass over it.</summary>
    public static (string Checksum, ArrayStatistics Statistics) Of(Array2D array)
    {
        var digest = new ResultDigest(array.Rows, array.Cols);
        digest.AddAll(array);
        return digest.Finish();
    }

    internal void CheckShape(Array2D output)
    {
        if (output.Rows != _rows || output.Cols != _cols)
            throw new ArgumentException(
                $"The digest was set up for ({_rows}, {_cols}) but the output is ({output.Rows}, {output.Cols}); call Reset first.", nameof(output));
    }
}
