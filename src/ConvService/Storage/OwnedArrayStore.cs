using System.Security.Cryptography;
using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Storage;

/// <summary>
/// One API key's view of the array store. With <c>ConvService:ApiKeys</c> configured every key (owner) has a namespace
/// of its own: the ids clients see stay the same content and result ids as without keys, but the store holds each
/// under <see cref="ArrayOwners.Scope"/>(owner, id). So an owner reaches only what it stored itself: another owner's
/// id, even one computed from the same content, finds nothing (404, no existence oracle), and a DELETE or a job's
/// cleanup removes only the caller's own copy. Identical content stored by two owners is stored twice.
/// </summary>
public sealed class OwnedArrayStore(IArrayStore inner, string owner) : IArrayStore
{
    /// <summary>The owner id (a hash of the API key, never the key).</summary>
    public string Owner { get; } = owner;

    /// <inheritdoc />
    public async ValueTask<ArrayPutOutcome> PutBufferAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken = default)
    {
        // The computation key stays unscoped: equal computations may share a buffer across owners, each under its own id.
        var outcome = await inner.PutBufferAsync(array, hash with { Id = Scope(hash.Id) }, cancellationToken);
        return outcome with { Info = outcome.Info with { Id = hash.Id } };
    }

    /// <inheritdoc />
    public ValueTask<Array2D?> TryGetAsync(string id, CancellationToken cancellationToken = default) => inner.TryGetAsync(Scope(id), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default) =>
        await inner.TryGetInfoAsync(Scope(id), cancellationToken) is { } info ? info with { Id = id } : null;

    /// <inheritdoc />
    public ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(Scope(id), cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default) => inner.PinAsync(Scope(id), cancellationToken);

    /// <inheritdoc />
    public ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default) => inner.UnpinAsync(Scope(id), cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

    private string Scope(string id) => ArrayOwners.Scope(Owner, id);
}

/// <summary>Owner ids and owner-scoped array ids (see <see cref="OwnedArrayStore"/>).</summary>
public static class ArrayOwners
{
    /// <summary>
    /// The store's id of <paramref name="id"/> for <paramref name="owner"/>: <paramref name="id"/> itself without an
    /// owner (no keys configured: single-user lab mode, ids exactly as before), else SHA-256 over the owner and the id.
    /// </summary>
    public static string Scope(string? owner, string id)
    {
        if (owner is null) return id;
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes("convservice/owned/" + owner + "/" + id), digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary><paramref name="store"/> as <paramref name="owner"/> sees it; the store itself when there is no owner.</summary>
    public static IArrayStore For(this IArrayStore store, string? owner) => owner is null ? store : new OwnedArrayStore(store, owner);
}
