using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using ConvService.Core.Arrays;

namespace ConvService.Storage;

/// <summary>
/// Content ids. One SHA-256 pass over the little-endian float64 data gives the data digest (reported as a result's
/// <c>sha256</c>); the id is SHA-256 over the shape (two little-endian int64) and that digest. One pass over the pixels
/// yields both, so storing a result costs one hash, not two.
/// </summary>
public static class ArrayId
{
    /// <summary>Length of an id in characters.</summary>
    public const int Length = 64;

    /// <summary>The id and data digest of <paramref name="array"/>, from one pass over its data.</summary>
    public static ArrayHash Compute(Array2D array)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Array ids are defined over little-endian float64 bytes.");
        Span<byte> data = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(array.Span), data);
        return FromDataDigest(array, data);
    }

    /// <summary>
    /// <see cref="Compute(Array2D)"/>, and <paramref name="statistics"/> of the values from the same pass: the data is
    /// hashed in chunks that fit in L2 and each chunk is summarised right after, while still in cache, where a
    /// separate pass would read a result larger than the cache from memory a second time.
    /// </summary>
    public static ArrayHash Compute(Array2D array, ref ArrayStatistics statistics)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Array ids are defined over little-endian float64 bytes.");
        const int ChunkValues = 16 * 1024; // 128 KB
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ReadOnlySpan<double> values = array.Span;
        for (int start = 0; start < values.Length; start += ChunkValues)
        {
            var chunk = values.Slice(start, Math.Min(ChunkValues, values.Length - start));
            sha.AppendData(MemoryMarshal.AsBytes(chunk));
            statistics.Add(chunk);
        }
        Span<byte> data = stackalloc byte[32];
        sha.GetHashAndReset(data);
        return FromDataDigest(array, data);
    }

    private static ArrayHash FromDataDigest(Array2D array, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[16 + 32];
        BinaryPrimitives.WriteInt64LittleEndian(header, array.Rows);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], array.Cols);
        data.CopyTo(header[16..]);
        Span<byte> id = stackalloc byte[32];
        SHA256.HashData(header, id);
        return new ArrayHash(Convert.ToHexStringLower(id), Convert.ToHexStringLower(data));
    }

    /// <summary>True when <paramref name="id"/> has the form of an array id.</summary>
    public static bool IsWellFormed(string? id) => id is { Length: Length } && IsLowerHex(id);

    internal static bool IsLowerHex(string s)
    {
        foreach (char c in s)
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }
}

/// <summary>An array's content id and the SHA-256 of its data alone.</summary>
/// <param name="Id">Content id (64 lowercase hex digits).</param>
/// <param name="DataSha256">SHA-256 of the little-endian float64 data, row-major.</param>
public readonly record struct ArrayHash(string Id, string DataSha256);
