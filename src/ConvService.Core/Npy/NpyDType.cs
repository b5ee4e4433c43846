using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ConvService.Core.Arrays;

namespace ConvService.Core.Npy;

/// <summary>The element types we accept, all widened to float64 on read.</summary>
internal enum NpyKind { F2, F4, F8, I1, I2, I4, I8, U1, U2, U4, U8 }

internal readonly record struct NpyDType(NpyKind Kind, int ItemSize)
{
    private const string ConvertHint = "convert with a.astype('<f8') before np.save";

    /// <summary>Maps a descr string to a supported type, or throws a message that says how to convert.</summary>
    public static NpyDType Parse(string descr)
    {
        if (descr.Length >= 2 && descr[0] == '>')
            throw new ArrayFormatException(
                $"dtype '{descr}' is big-endian; only little-endian data is accepted: {ConvertHint}.");
        if (descr.Length >= 2 && descr[0] == '=')
            throw new ArrayFormatException(
                $"dtype '{descr}' has native byte order, which is ambiguous in a file: {ConvertHint}.");
        if (descr.TrimStart('|', '<', '>', '=').StartsWith('O'))
            throw new ArrayFormatException(
                $"dtype '{descr}' is an object (pickled) array, which is never loaded for safety: send numbers, e.g. a.astype('<f8').");
        return descr switch
        {
            "<f2" => new(NpyKind.F2, 2),
            "<f4" => new(NpyKind.F4, 4),
            "<f8" => new(NpyKind.F8, 8),
            "|i1" or "<i1" => new(NpyKind.I1, 1),
            "<i2" => new(NpyKind.I2, 2),
            "<i4" => new(NpyKind.I4, 4),
            "<i8" => new(NpyKind.I8, 8),
            "|u1" or "<u1" => new(NpyKind.U1, 1),
            "<u2" => new(NpyKind.U2, 2),
            "<u4" => new(NpyKind.U4, 4),
            "<u8" => new(NpyKind.U8, 8),
            _ => throw new ArrayFormatException(
                $"dtype '{descr}' is not supported; use a little-endian float or integer type ({ConvertHint})."),
        };
    }

    /// <summary>Widens <c>dst.Length</c> little-endian elements from <paramref name="src"/> to float64.</summary>
    public void Decode(ReadOnlySpan<byte> src, Span<double> dst)
    {
        if (Kind == NpyKind.F8 && BitConverter.IsLittleEndian)
        {
            // The common case is a straight copy; multi-megabyte arrays should not pay per-element decoding.
            MemoryMarshal.Cast<byte, double>(src[..(dst.Length * 8)]).CopyTo(dst);
            return;
        }
        switch (Kind)
        {
            case NpyKind.F2: for (int i = 0; i < dst.Length; i++) dst[i] = (double)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..]); break;
            case NpyKind.F4: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]); break;
            case NpyKind.F8: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..]); break;
            case NpyKind.I1: for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i]; break;
            case NpyKind.I2: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(i * 2)..]); break;
            case NpyKind.I4: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]); break;
            case NpyKind.I8: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(i * 8)..]); break;
            case NpyKind.U1: for (int i = 0; i < dst.Length; i++) dst[i] = src[i]; break;
            case NpyKind.U2: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]); break;
            case NpyKind.U4: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(i * 4)..]); break;
            case NpyKind.U8: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt64LittleEndian(src[(i * 8)..]); break;
            default: throw new InvalidOperationException($"Unhandled dtype kind {Kind}.");
        }
    }
}
