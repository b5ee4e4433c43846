using System.Buffers.Binary;
using System.Diagnostics;
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

    /// <summary>Values hashed and summarised at a time: small enough that the statistics read them from L1 right after the hash.</summary>
    private const int ChunkValues = 2048;

    private UInt128[] _bands = [];
    private ArrayStatistics[] _statistics = [];
    private XxHash128?[] _open = [];
    private int[] _openEnd = [];
    private long[] _ticks = [];
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
            Array.Resize(ref _open, _bandCount); // keeps the hashers already made
            _openEnd = new int[_bandCount];
            _ticks = new long[_bandCount];
        }
        Array.Clear(_ticks, 0, _bandCount);
    }

    /// <summary>
    /// Time spent digesting since <see cref="Reset"/>, summed over bands (and so over threads): what the checksum and
    /// statistics added to the convolution they rode along with, so timings can report the two apart.
    /// </summary>
    public TimeSpan Elapsed
    {
        get
        {
            long ticks = 0;
            for (int b = 0; b < _bandCount; b++) ticks += _ticks[b];
            return Stopwatch.GetElapsedTime(0, ticks);
        }
    }

    /// <summary>
    /// Rows of output each <see cref="AddRows"/> call should cover so that they are still in a core's L2 cache when
    /// digested (about 256 KB), even, between 2 and <see cref="BandRows"/>.
    /// </summary>
    public int StepRows => Math.Clamp(32768 / Math.Max(1, _cols), 2, BandRows) & ~1;

    /// <summary>
    /// Digests rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of <paramref name="output"/>, which lie in one
    /// band and continue that band where the last call for it stopped (a band's rows in order; different bands may be
    /// added concurrently from different threads). The band is finished when its last row is added.
    /// </summary>
    public void AddRows(Array2D output, int firstRow, int endRow)
    {
        int band = firstRow / BandRows;
        int bandFirst = band * BandRows, bandEnd = Math.Min(_rows, bandFirst + BandRows);
        if (endRow > bandEnd || endRow <= firstRow || firstRow != (firstRow == bandFirst ? bandFirst : _openEnd[band]))
            throw new ArgumentException($"Rows [{firstRow}, {endRow}) do not continue band {band} (rows [{bandFirst}, {bandEnd})).");
        long started = Stopwatch.GetTimestamp();
        var hash = _open[band] ??= new XxHash128();
        if (firstRow == bandFirst)
        {
            hash.Reset();
            _statistics[band] = new ArrayStatistics();
        }
        var values = output.Span.Slice(firstRow * _cols, (endRow - firstRow) * _cols);
        for (int start = 0; start < values.Length; start += ChunkValues)
        {
            var chunk = values.Slice(start, Math.Min(ChunkValues, values.Length - start));
            hash.Append(MemoryMarshal.AsBytes(chunk));
            _statistics[band].Add(chunk);
        }
        _openEnd[band] = endRow;
        if (endRow == bandEnd) _bands[band] = hash.GetCurrentHashAsUInt128();
        _ticks[band] += Stopwatch.GetTimestamp() - started;
    }

    /// <summary>
    /// Digests band <paramref name="band"/>: rows [band × <see cref="BandRows"/>, …) of <paramref name="output"/>.
    /// Distinct bands may be added concurrently from different threads.
    /// </summary>
    public void AddBand(Array2D output, int band)
    {
        int first = band * BandRows;
        AddRows(output, first, Math.Min(_rows, first + BandRows));
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
