using ConvService.Core.Arrays;

namespace ConvService.Storage;

/// <summary>
/// Storage for images, kernels and results, by id (<see cref="ArrayId"/>: content ids for inputs, job-derived ids for
/// results), so writes are idempotent. Identical contents may share one buffer behind several ids.
/// </summary>
public interface IArrayStore
{
    /// <summary>
    /// Stores an array under <paramref name="hash"/> (a no-op if that id is already stored): a content id from
    /// <see cref="ArrayId.Compute(Array2D)"/> or a result id from <see cref="ArrayId.ForResult"/>, whose checksum the caller
    /// computed along with other work. Says whether the store now references the buffer. When it does not (the id or an
    /// identical content was already stored, or the store copied the bytes elsewhere), the caller may reuse the buffer.
    /// </summary>
    /// <exception cref="ArrayStoreFullException">The byte budget cannot make room.</exception>
    ValueTask<ArrayPutOutcome> PutBufferAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken = default);

    /// <summary>The array, or null when unknown or evicted.</summary>
    ValueTask<Array2D?> TryGetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The array's description without its data, or null.</summary>
    ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes an array unless a queued or running job still needs it.</summary>
    ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Protects an array from eviction while a queued or running job needs it (counted).</summary>
    /// <returns>False when the array is not stored.</returns>
    ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Releases one <see cref="PinAsync"/>.</summary>
    ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>True when the store can be reached (for /health/ready).</summary>
    ValueTask<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>The put every caller without a precomputed hash uses: the same for every store.</summary>
public static class ArrayStoreExtensions
{
    /// <summary>Hashes <paramref name="array"/> and stores it (a no-op if the same content is already stored); returns its description.</summary>
    /// <exception cref="ArrayStoreFullException">The byte budget cannot make room.</exception>
    public static async ValueTask<StoredArrayInfo> PutAsync(this IArrayStore store, Array2D array, CancellationToken cancellationToken = default) =>
        (await store.PutBufferAsync(array, ArrayId.Compute(array), cancellationToken)).Info; // hashed before any store lock: it is the expensive part

    /// <summary>
    /// Pins every id (an id listed twice is pinned twice), all or nothing: false, with nothing left pinned, when
    /// one is no longer stored. Jobs and benchmarks pin their inputs through here.
    /// </summary>
    public static async ValueTask<bool> PinAllAsync(this IArrayStore store, IReadOnlyList<string> ids)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (await store.PinAsync(ids[i])) continue;
            for (int j = 0; j < i; j++) await store.UnpinAsync(ids[j]);
            return false;
        }
        return true;
    }

    /// <summary>Releases one pin of every id taken by <see cref="PinAllAsync"/>.</summary>
    public static async ValueTask UnpinAllAsync(this IArrayStore store, IReadOnlyList<string> ids)
    {
        foreach (var id in ids) await store.UnpinAsync(id);
    }
}

/// <summary>What the array store knows about one array.</summary>
/// <param name="Id">SHA-256 content id (64 lowercase hex digits).</param>
/// <param name="Shape">[rows, cols].</param>
/// <param name="Dtype">Always "float64": every input is converted on the way in.</param>
/// <param name="Bytes">Data size in bytes.</param>
/// <param name="Sha256">SHA-256 of the data alone (little-endian float64, row-major) for uploaded and generated arrays;
/// null for job results, which are not hashed with SHA-256 (their <paramref name="Checksum"/> identifies the content).</param>
/// <param name="Checksum">XXH3-128 checksum of shape and data (<c>xxh128:</c> + 32 hex digits, see <c>ResultDigest</c>);
/// null only for arrays stored by versions before it existed.</param>
public sealed record StoredArrayInfo(string Id, int[] Shape, string Dtype, long Bytes, string? Sha256, string? Checksum)
{
    /// <summary>Describes <paramref name="array"/> stored under <paramref name="hash"/>.</summary>
    public static StoredArrayInfo Of(ArrayHash hash, Array2D array) =>
        new(hash.Id, [array.Rows, array.Cols], "float64", array.Length * sizeof(double), hash.DataSha256, hash.Checksum);
}

/// <summary>What <see cref="IArrayStore.PutBufferAsync"/> did.</summary>
/// <param name="Info">The stored array's description.</param>
/// <param name="KeptBuffer">True when the store holds the caller's buffer from now on: the caller must not write to it again.</param>
public readonly record struct ArrayPutOutcome(StoredArrayInfo Info, bool KeptBuffer);

/// <summary>What <see cref="IArrayStore.DeleteAsync"/> did.</summary>
public enum ArrayDeleteOutcome
{
    /// <summary>No such array.</summary>
    NotFound,
    /// <summary>Removed.</summary>
    Deleted,
    /// <summary>Kept: a queued or running job still needs it.</summary>
    InUse,
}
