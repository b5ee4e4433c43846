using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Storage;

/// <summary>
/// Array ids: 64 lowercase hex digits, in two kinds.
/// <list type="bullet">
/// <item><b>Content ids</b> for what clients send (uploads, inline data, generated inputs): SHA-256 over the shape (two
/// little-endian int64) and the SHA-256 of the little-endian float64 data. Collision-resistant, so the same content
/// always has the same id and no one can craft a second array under someone else's id.</item>
/// <item><b>Result ids</b> for what a job computes: SHA-256 of the job id, so a job re-run after a crash writes the
/// same id (idempotent) without hashing its output with SHA-256 on the hot path. Results of the same computation (the
/// same content-addressed inputs and options: convolution is deterministic) share one buffer in the store when their
/// checksums agree, but keep their own ids: deleting one job's result never touches another's.</item>
/// </list>
/// Results stored before this scheme kept content ids; those ids still work as they are.
/// </summary>
public static class ArrayId
{
    /// <summary>Length of an id in characters.</summary>
    public const int Length = 64;

    /// <summary>The content id, data SHA-256 and checksum of <paramref name="array"/> (for uploads and other client inputs).</summary>
    public static ArrayHash Compute(Array2D array)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Array ids are defined over little-endian float64 bytes.");
        Span<byte> data = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(array.Span), data);
        Span<byte> header = stackalloc byte[16 + 32];
        BinaryPrimitives.WriteInt64LittleEndian(header, array.Rows);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], array.Cols);
        data.CopyTo(header[16..]);
        Span<byte> id = stackalloc byte[32];
        SHA256.HashData(header, id);
        return new ArrayHash(Convert.ToHexStringLower(id), Convert.ToHexStringLower(data), ResultDigest.Of(array).Checksum);
    }

    /// <summary>
    /// The id of job <paramref name="jobId"/>'s result, whose <see cref="ResultDigest"/> checksum is <paramref name="checksum"/>;
    /// <paramref name="computation"/> names what was computed (inputs' content ids and options), so that repeats can share storage.
    /// </summary>
    public static ArrayHash ForResult(string jobId, string checksum, string computation)
    {
        Span<byte> id = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("convservice/result/" + jobId), id);
        Span<byte> key = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("convservice/computation/" + computation), key);
        return new ArrayHash(Convert.ToHexStringLower(id), DataSha256: null, checksum, Convert.ToHexStringLower(key));
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

/// <summary>An array's id, the SHA-256 of its data (content ids only) and its checksum.</summary>
/// <param name="Id">Id (64 lowercase hex digits).</param>
/// <param name="DataSha256">SHA-256 of the little-endian float64 data, row-major; null for results (see <see cref="ArrayId"/>).</param>
/// <param name="Checksum"><see cref="ResultDigest"/> checksum: <c>xxh128:</c> + 32 hex digits.</param>
/// <param name="Computation">Results only: SHA-256 naming the computation (content ids of the inputs and the options). Two results
/// with the same computation and checksum are the same array (convolution is deterministic), so a store may keep it once.</param>
public readonly record struct ArrayHash(string Id, string? DataSha256, string Checksum, string? Computation = null);
