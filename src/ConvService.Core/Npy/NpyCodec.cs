using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Core.Npy;

/// <summary>
/// Reads and writes numpy .npy files (format versions 1.0, 2.0 and 3.0) holding 2-D numeric arrays.
/// Reading accepts little-endian <c>f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8</c> in C or Fortran order and
/// widens everything to float64 (<c>u8</c>/<c>i8</c> above 2^53 round, as <c>astype('&lt;f8')</c> does).
/// Every check — magic, header dict, dtype, rank, size against <c>maxBytes</c> (counted as float64,
/// rows × cols × 8) and, where the input length is known, the exact data length — runs before the
/// array is allocated. Object/pickle, big-endian and structured dtypes are refused, never interpreted.
/// NaN and ±Inf values pass through unchanged in both directions; callers that cannot use them must check.
/// Writing always produces <c>&lt;f8</c>, C order, format 1.0, with the header padded to a multiple of 64 bytes.
/// </summary>
public static class NpyCodec
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy itself refuses headers above 10 000 bytes by default; a 2-D header needs under 128.
    private const int MaxHeaderDictBytes = 64 * 1024;
    private const int ChunkBytes = 64 * 1024;
    private const int ItemsPerChunk = ChunkBytes / sizeof(double); // decoded values per chunk, whatever the stored width
    private const int AsyncChunkBytes = 1 << 20; // fewer, larger network writes
    private const string ReSave = "re-save it with numpy.save(path, a)";

    /// <summary>
    /// Reads and validates only the header, leaving <paramref name="stream"/> positioned at the first data byte.
    /// Throws <see cref="ArrayTooLargeException"/> when the array would exceed <paramref name="maxBytes"/>
    /// as float64 and <see cref="ArrayFormatException"/> for anything malformed or unsupported.
    /// </summary>
    public static NpyHeader ReadHeader(Stream stream, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[12];
        ReadExactlyOrThrow(stream, prefix[..8], "the 8-byte magic and version");
        int version = ParseVersion(prefix);
        int lengthBytes = version == 1 ? 2 : 4;
        ReadExactlyOrThrow(stream, prefix.Slice(8, lengthBytes), "the header length field");
        int dictLength = ParseDictLength(prefix, version);
        byte[] dict = ArrayPool<byte>.Shared.Rent(dictLength);
        try
        {
            ReadExactlyOrThrow(stream, dict.AsSpan(0, dictLength), $"the {dictLength}-byte header it declares");
            return BuildHeader(dict.AsSpan(0, dictLength), version, 8 + lengthBytes + dictLength, maxBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(dict);
        }
    }

    /// <summary>
    /// Validates the header from the first bytes of a file, as <see cref="ReadHeader"/> does; false when
    /// <paramref name="prefix"/> is too short to hold the whole header (the check then waits for the full file).
    /// </summary>
    public static bool TryCheckHeader(ReadOnlySpan<byte> prefix, long maxBytes)
    {
        if (prefix.Length < 12) return false;
        int version = ParseVersion(prefix);
        long end = version == 1 ? 10 + BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : 12 + (long)BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (end > prefix.Length) return false;
        using var stream = new MemoryStream(prefix[..(int)end].ToArray(), writable: false);
        ReadHeader(stream, maxBytes);
        return true;
    }

    /// <summary>
    /// Reads a whole .npy array from <paramref name="stream"/>, which must end right after the data.
    /// Short reads are handled; the array is allocated only after the header passed every check, and for
    /// seekable streams only after the remaining length matched the header exactly.
    /// </summary>
    public static Array2D Read(Stream stream, long maxBytes)
    {
        var header = ReadHeader(stream, maxBytes);
        long dataLength = header.DataLength;
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            CheckDataLength(remaining, dataLength, header);
        }

        var array = Array2D.CreateUninitialized(header.Rows, header.Cols); // every element is decoded below
        int itemSize = header.ItemSize;
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ItemsPerChunk * itemSize);
        double[] scratch = ArrayPool<double>.Shared.Rent(ItemsPerChunk);
        try
        {
            for (long done = 0; done < array.Length; done += ItemsPerChunk)
            {
                int bytes = (int)Math.Min(ItemsPerChunk, array.Length - done) * itemSize;
                int got = stream.ReadAtLeast(chunk.AsSpan(0, bytes), bytes, throwOnEndOfStream: false);
                if (got < bytes)
                    throw Truncated(header, dataLength, done * itemSize + got);
                DecodeChunk(header, chunk.AsSpan(0, bytes), done, array, scratch);
            }
            if (!stream.CanSeek && stream.Read(chunk, 0, 1) > 0)
                throw new ArrayFormatException(
                    $"The .npy data is longer than its header's shape ({header.Rows}, {header.Cols}) of {header.Descr} says; the file has trailing bytes or a lying shape: {ReSave}.");
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return array;
    }

    /// <summary>Reads a whole .npy array from memory; the span must hold exactly the header and the data.</summary>
    public static Array2D Read(ReadOnlySpan<byte> bytes, long maxBytes)
    {
        if (bytes.Length < 8)
            throw new ArrayFormatException($"The input has {bytes.Length} bytes, too short to be a .npy file; {ReSave}.");
        int version = ParseVersion(bytes);
        int lengthBytes = version == 1 ? 2 : 4;
        if (bytes.Length < 8 + lengthBytes)
            throw new ArrayFormatException($"The .npy file ends inside its header length field; {ReSave}.");
        int dictLength = ParseDictLength(bytes, version);
        int dataOffset = 8 + lengthBytes;
        if (bytes.Length - dataOffset < dictLength)
            throw new ArrayFormatException(
                $"The .npy header declares {dictLength} bytes but only {bytes.Length - dataOffset} follow; the file is truncated: send the complete file.");
        var header = BuildHeader(bytes.Slice(dataOffset, dictLength), version, dataOffset + dictLength, maxBytes);
        var data = bytes[header.HeaderLength..];
        CheckDataLength(data.Length, header.DataLength, header);

        var array = Array2D.CreateUninitialized(header.Rows, header.Cols); // every element is decoded below
        int itemSize = header.ItemSize;
        double[] scratch = ArrayPool<double>.Shared.Rent(ItemsPerChunk);
        try
        {
            for (long done = 0; done < array.Length; done += ItemsPerChunk)
            {
                int items = (int)Math.Min(ItemsPerChunk, array.Length - done);
                DecodeChunk(header, data.Slice((int)(done * itemSize), items * itemSize), done, array, scratch);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
        return array;
    }

    /// <summary>Writes <paramref name="array"/> as a <c>&lt;f8</c>, C-order, version 1.0 .npy file.</summary>
    public static void Write(Stream stream, Array2D array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        stream.Write(BuildWriteHeader(array));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(array.Span));
            return;
        }
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long done = 0; done < array.Length;)
            {
                int bytes = EncodeData(array, done, chunk);
                stream.Write(chunk, 0, bytes);
                done += bytes / sizeof(double);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// Writes <paramref name="array"/> like <see cref="Write(Stream, Array2D)"/>, asynchronously and in chunks, so a
    /// server can send a large array without a second copy of it in memory (or synchronous I/O).
    /// </summary>
    public static async Task WriteAsync(Stream stream, Array2D array, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        await stream.WriteAsync(BuildWriteHeader(array), cancellationToken);
        await WriteDataAsync(stream, [array], cancellationToken);
    }

    /// <summary>The arrays' values, one after the other, in chunks.</summary>
    private static async Task WriteDataAsync(Stream stream, IReadOnlyList<Array2D> arrays, CancellationToken cancellationToken)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(AsyncChunkBytes);
        try
        {
            foreach (var array in arrays)
                for (long done = 0; done < array.Length;)
                {
                    int bytes = EncodeData(array, done, chunk);
                    await stream.WriteAsync(chunk.AsMemory(0, bytes), cancellationToken);
                    done += bytes / sizeof(double);
                }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Bytes of the .npy file <see cref="Write(Stream, Array2D)"/> produces for <paramref name="array"/>.</summary>
    public static long EncodedLength(Array2D array) => BuildWriteHeader(array).Length + array.Length * sizeof(double);

    /// <summary>Returns <paramref name="array"/> as the bytes of a <c>&lt;f8</c>, C-order, version 1.0 .npy file.</summary>
    public static byte[] Write(Array2D array)
    {
        ArgumentNullException.ThrowIfNull(array);
        byte[] header = BuildWriteHeader(array);
        var result = new byte[checked(header.Length + array.Length * 8)];
        header.CopyTo(result, 0);
        EncodeData(array, 0, result.AsSpan(header.Length));
        return result;
    }

    /// <summary>
    /// Little-endian float64 bytes of the values from flat index <paramref name="first"/> on, as many whole values
    /// as fit in <paramref name="destination"/>; returns the bytes written. The one data encoder of every writer.
    /// </summary>
    private static int EncodeData(Array2D array, long first, Span<byte> destination)
    {
        int items = (int)Math.Min(destination.Length / sizeof(double), array.Length - first);
        var values = array.Span.Slice((int)first, items);
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
        }
        else
        {
            for (int i = 0; i < items; i++)
                BinaryPrimitives.WriteDoubleLittleEndian(destination[(i * sizeof(double))..], values[i]);
        }
        return items * sizeof(double);
    }

    /// <summary>
    /// Writes <paramref name="arrays"/>, all of one shape (rows, cols), as one <c>&lt;f8</c> .npy file of shape
    /// (count, rows, cols): <c>numpy.load</c> gives the stack, <c>stack[k]</c> the k-th array. Streamed array by array.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays are not all of one shape, or there are none.</exception>
    public static async Task WriteStackAsync(Stream stream, IReadOnlyList<Array2D> arrays, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await stream.WriteAsync(StackHeader(arrays), cancellationToken);
        await WriteDataAsync(stream, arrays, cancellationToken);
    }

    /// <summary>Bytes of the .npy file <see cref="WriteStackAsync"/> produces for <paramref name="arrays"/>.</summary>
    public static long EncodedStackLength(IReadOnlyList<Array2D> arrays)
    {
        long length = StackHeader(arrays).Length;
        foreach (var array in arrays) length += array.Length * sizeof(double);
        return length;
    }

    private static byte[] StackHeader(IReadOnlyList<Array2D> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (arrays.Count == 0) throw new ArgumentException("A stack needs at least one array.", nameof(arrays));
        foreach (var array in arrays)
            if (array.Rows != arrays[0].Rows || array.Cols != arrays[0].Cols)
                throw new ArgumentException("The arrays of a stack must all have one shape.", nameof(arrays));
        return BuildWriteHeader($"({arrays.Count}, {arrays[0].Rows}, {arrays[0].Cols})");
    }

    private static byte[] BuildWriteHeader(Array2D array) => BuildWriteHeader($"({array.Rows}, {array.Cols})");

    private static byte[] BuildWriteHeader(string shape)
    {
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}";
        // numpy pads so the data starts on a 64-byte boundary: magic(6) + version(2) + length(2) + dict + '\n'.
        int unpadded = 10 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        int dictLength = dict.Length + padding + 1;
        var header = new byte[10 + dictLength];
        Magic.CopyTo(header);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)dictLength);
        int written = Encoding.ASCII.GetBytes(dict, header.AsSpan(10));
        header.AsSpan(10 + written, padding).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    private static int ParseVersion(ReadOnlySpan<byte> prefix)
    {
        if (!prefix[..6].SequenceEqual(Magic))
            throw new ArrayFormatException(
                "The input is not a .npy file (it does not start with the \\x93NUMPY magic); save the array with numpy.save(path, a), not np.savetxt or pickle.");
        byte major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new ArrayFormatException(
                $"The .npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are); {ReSave}.");
        return major;
    }

    private static int ParseDictLength(ReadOnlySpan<byte> prefix, int version)
    {
        long length = version == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (length > MaxHeaderDictBytes)
            throw new ArrayFormatException(
                $"The .npy header declares {length} bytes of metadata, more than the {MaxHeaderDictBytes} allowed for a 2-D array; {ReSave}.");
        return (int)length;
    }

    private static NpyHeader BuildHeader(ReadOnlySpan<byte> dictBytes, int version, int headerLength, long maxBytes)
    {
        string text;
        try
        {
            text = version == 3
                ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(dictBytes)
                : Encoding.Latin1.GetString(dictBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ArrayFormatException($"The .npy version 3.0 header is not valid UTF-8; {ReSave}.");
        }

        var (descr, fortran, shape) = NpyHeaderParser.Parse(text);
        if (shape.Length != 2)
            throw new ArrayFormatException(
                $"The .npy array is {shape.Length}-D with shape ({string.Join(", ", shape)}); send a 2-D array; reshape with a.reshape(rows, cols).");
        long rows = shape[0], cols = shape[1]; // each ≤ int.MaxValue (the parser's rule), so the product fits in a long
        // Constructing the header parses the dtype, so an unsupported one is refused before any size arithmetic.
        var header = new NpyHeader(descr, fortran, (int)rows, (int)cols, version, headerLength);
        long elements = rows * cols;
        if (elements > Array.MaxLength || elements * 8 > maxBytes)
            throw new ArrayTooLargeException(
                $"The .npy array of shape ({rows}, {cols}) needs {elements * 8:N0} bytes as float64, over the {maxBytes:N0}-byte limit; send a smaller array or crop it, e.g. a[:1000, :1000].");
        return header;
    }

    private static void CheckDataLength(long actual, long expected, NpyHeader header)
    {
        if (actual < expected)
            throw Truncated(header, expected, actual);
        if (actual > expected)
            throw new ArrayFormatException(
                $"The .npy data has {actual} bytes but shape ({header.Rows}, {header.Cols}) of {header.Descr} needs exactly {expected}; the file has trailing bytes or a lying shape: {ReSave}.");
    }

    private static ArrayFormatException Truncated(NpyHeader header, long expected, long actual) =>
        new($"The .npy data is truncated: shape ({header.Rows}, {header.Cols}) of {header.Descr} needs {expected} bytes but only {actual} arrived; send the complete file.");

    /// <summary>
    /// Decodes the stored elements in <paramref name="raw"/>, flat indices from <paramref name="firstIndex"/> on, into
    /// <paramref name="array"/>: in place for C order, through <paramref name="scratch"/> for Fortran order.
    /// Both readers (stream and memory) decode through here.
    /// </summary>
    private static void DecodeChunk(NpyHeader header, ReadOnlySpan<byte> raw, long firstIndex, Array2D array, double[] scratch)
    {
        int items = raw.Length / header.ItemSize;
        if (!header.FortranOrder)
        {
            header.DType.Decode(raw, array.Data.AsSpan((int)firstIndex, items));
            return;
        }
        var values = scratch.AsSpan(0, items);
        header.DType.Decode(raw, values);
        ScatterFortran(values, firstIndex, array);
    }

    private static void ScatterFortran(ReadOnlySpan<double> values, long firstIndex, Array2D array)
    {
        // Fortran order walks down columns: flat index k is (k % rows, k / rows).
        int rows = array.Rows, cols = array.Cols;
        int col = (int)(firstIndex / rows), row = (int)(firstIndex % rows);
        var data = array.Data;
        for (int i = 0; i < values.Length; i++)
        {
            data[row * cols + col] = values[i];
            if (++row == rows)
            {
                row = 0;
                col++;
            }
        }
    }

    private static void ReadExactlyOrThrow(Stream stream, Span<byte> buffer, string what)
    {
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
            throw new ArrayFormatException(
                $"The .npy input ended after {got} of {buffer.Length} bytes of {what}; the file is truncated or not a .npy file: send the complete file saved with numpy.save.");
    }
}
