using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using ConvService.Core.Arrays;

namespace ConvService.Storage;

/// <summary>Content ids: SHA-256 over the shape (two little-endian int64) followed by the float64 data.</summary>
public static class ArrayId
{
    /// <summary>Length of an id in characters.</summary>
    public const int Length = 64;

    /// <summary>Computes the id of <paramref name="array"/>.</summary>
    public static string Compute(Array2D array)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> shape = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(shape, array.Rows);
        BinaryPrimitives.WriteInt64LittleEndian(shape[8..], array.Cols);
        hash.AppendData(shape);
        AppendData(hash, array);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>SHA-256 of the data alone, as reported in result summaries.</summary>
    public static string DataSha256(Array2D array)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendData(hash, array);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Appends the array's raw little-endian float64 bytes to a running hash.</summary>
    public static void AppendData(IncrementalHash hash, Array2D array)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Array ids are defined over little-endian float64 bytes.");
        hash.AppendData(MemoryMarshal.AsBytes(array.Span));
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
