using ConvService.Core.Generators;

namespace ConvService.Jobs;

/// <summary>A generator spec: generated inputs are deterministic, so one spec is one array.</summary>
/// <param name="Rows">Rows.</param>
/// <param name="Cols">Columns.</param>
/// <param name="Fill">Generator fill.</param>
/// <param name="Seed">Generator seed.</param>
public readonly record struct GeneratedArrayKey(int Rows, int Cols, FillKind Fill, int Seed);

/// <summary>
/// The content id of each recently generated input, so a request that names a spec already generated (every benchmark
/// and load test does) reuses the stored array instead of generating 72 MB again. One per host (a singleton, not a
/// static: hosts in one process have separate stores), and bounded: the least recently used spec is forgotten first.
/// An id is only a hint; the caller checks that the array is still stored.
/// </summary>
public sealed class GeneratedArrayIds
{
    /// <summary>Specs remembered by default: a few hundred strings, whatever the traffic.</summary>
    public const int DefaultCapacity = 256;

    private readonly int _capacity;
    private readonly Dictionary<GeneratedArrayKey, LinkedListNode<(GeneratedArrayKey Key, string Id)>> _byKey = [];
    private readonly LinkedList<(GeneratedArrayKey Key, string Id)> _recency = new(); // most recently used first
    private readonly Lock _lock = new();

    /// <summary>Remembers up to <see cref="DefaultCapacity"/> specs.</summary>
    public GeneratedArrayIds() : this(DefaultCapacity)
    {
    }

    /// <summary>Remembers up to <paramref name="capacity"/> specs.</summary>
    public GeneratedArrayIds(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>How many specs are remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _byKey.Count;
        }
    }

    /// <summary>The id last stored for <paramref name="key"/>, if remembered.</summary>
    public bool TryGet(GeneratedArrayKey key, out string id)
    {
        lock (_lock)
        {
            if (!_byKey.TryGetValue(key, out var node))
            {
                id = "";
                return false;
            }
            _recency.Remove(node);
            _recency.AddFirst(node);
            id = node.Value.Id;
            return true;
        }
    }

    /// <summary>Remembers <paramref name="id"/> for <paramref name="key"/>, forgetting the least recently used spec when full.</summary>
    public void Remember(GeneratedArrayKey key, string id)
    {
        lock (_lock)
        {
            if (_byKey.Remove(key, out var old)) _recency.Remove(old);
            else if (_byKey.Count >= _capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _byKey.Remove(oldest.Value.Key);
            }
            _byKey[key] = _recency.AddFirst((key, id));
        }
    }
}
