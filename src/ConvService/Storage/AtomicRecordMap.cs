using System.Collections.Concurrent;

namespace ConvService.Storage;

/// <summary>
/// Immutable records keyed by id, replaced with compare-and-swap: the in-memory stores' one concurrency primitive,
/// so a reader never sees half an update and concurrent writers retry on the latest record.
/// </summary>
internal sealed class AtomicRecordMap<T> where T : class
{
    private readonly ConcurrentDictionary<string, T> _records = new(StringComparer.Ordinal);

    public int Count => _records.Count;

    public ICollection<T> Values => _records.Values;

    public bool TryAdd(string id, T record) => _records.TryAdd(id, record);

    public T? TryGet(string id) => _records.TryGetValue(id, out var record) ? record : null;

    public bool TryRemove(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? removed) => _records.TryRemove(id, out removed);

    /// <summary>Applies <paramref name="update"/> atomically (null = leave as is).</summary>
    /// <returns>The record after the call, the one it replaced (when changed), and whether it changed.</returns>
    public (T? Record, T? Previous, bool Changed) Update(string id, Func<T, T?> update)
    {
        while (true)
        {
            if (!_records.TryGetValue(id, out var current)) return (null, null, false);
            var next = update(current);
            if (next is null) return (current, null, false);
            if (_records.TryUpdate(id, next, current)) return (next, current, true);
            // Lost a race with another writer: re-read and re-apply, like an optimistic-concurrency retry.
        }
    }

    /// <summary>Newest first (ids are time-ordered), skipping ids not older than <paramref name="after"/>.</summary>
    public List<T> Page(Func<T, string> idOf, Func<T, bool> include, int limit, string? after)
    {
        var matches = new List<T>();
        foreach (var record in _records.Values)
            if (include(record) && (after is null || string.CompareOrdinal(idOf(record), after) < 0)) matches.Add(record);
        matches.Sort((a, b) => string.CompareOrdinal(idOf(b), idOf(a)));
        if (matches.Count > limit) matches.RemoveRange(limit, matches.Count - limit);
        return matches;
    }
}
