using ConvService.Core.Arrays;

namespace ConvService.Storage.Postgres;

/// <summary>
/// This node's copies of arrays it downloaded from PostgreSQL, within a byte budget, least recently used out first.
/// Arrays are content-addressed and immutable, so a copy can never hold stale values; whether the array still
/// exists (another node may have deleted or evicted it) is asked of the database on every hit, with a query that
/// returns one boolean instead of the value. Without it every job of a 3000×3000 benchmark downloads the same
/// 72 MB image again.
/// </summary>
/// <remarks>The copies are shared by every reader, as the in-memory store shares its arrays: nobody writes to an input.</remarks>
public sealed class NodeArrayCache(long budgetBytes)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Id, Array2D Array)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Id, Array2D Array)> _lru = new(); // most recently used first
    private long _bytes;

    /// <summary>Bytes held now.</summary>
    public long Bytes { get { lock (_gate) return _bytes; } }

    /// <summary>The cached copy of <paramref name="id"/>, or null.</summary>
    public Array2D? TryGet(string id)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var node)) return null;
            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value.Array;
        }
    }

    /// <summary>Keeps a copy, evicting the least recently used ones to make room; an array over the whole budget is not kept.</summary>
    public void Add(string id, Array2D array)
    {
        long bytes = array.Length * sizeof(double);
        if (bytes == 0 || bytes > budgetBytes) return; // an empty array costs nothing to download; a 0 budget means off
        lock (_gate)
        {
            if (_entries.ContainsKey(id)) return;
            while (_bytes + bytes > budgetBytes && _lru.Last is { } oldest) RemoveNode(oldest);
            _entries.Add(id, _lru.AddFirst((id, array)));
            _bytes += bytes;
        }
    }

    /// <summary>Forgets <paramref name="id"/> (deleted, or found gone from the database).</summary>
    public void Remove(string id)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out var node)) RemoveNode(node);
        }
    }

    private void RemoveNode(LinkedListNode<(string Id, Array2D Array)> node)
    {
        _lru.Remove(node);
        _entries.Remove(node.Value.Id);
        _bytes -= node.Value.Array.Length * sizeof(double);
    }
}
