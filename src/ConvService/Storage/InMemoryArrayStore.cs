using ConvService.Core.Arrays;
using ConvService.Options;
using Microsoft.Extensions.Options;

namespace ConvService.Storage;

/// <summary>
/// Array store in process memory, bounded by <see cref="LimitsOptions.ArrayStoreBytes"/>: when a new
/// array does not fit, the least recently used unpinned arrays are evicted. Pinned arrays (inputs of
/// queued or running jobs) are never evicted.
/// </summary>
public sealed class InMemoryArrayStore(IOptions<ConvServiceOptions> options) : IArrayStore
{
    private sealed class Entry(ArrayHash hash, Array2D array)
    {
        public ArrayHash Hash { get; } = hash;
        public string Id => Hash.Id;
        public Array2D Array { get; } = array;
        public long Bytes => Array.Length * sizeof(double);
        public int Pins;
        public LinkedListNode<Entry>? LruNode;
    }

    private readonly long _budget = options.Value.Limits.ArrayStoreBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _lru = new(); // most recently used first
    private long _bytes;

    /// <summary>Bytes currently held.</summary>
    public long Bytes { get { lock (_gate) return _bytes; } }

    /// <inheritdoc />
    public ValueTask<ArrayPutOutcome> PutBufferAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken = default)
    {
        string id = hash.Id;
        long bytes = array.Length * sizeof(double);
        lock (_gate)
        {
            if (_entries.TryGetValue(id, out var existing))
            {
                Touch(existing);
                return ValueTask.FromResult(new ArrayPutOutcome(StoredArrayInfo.Of(existing.Hash, existing.Array), KeptBuffer: false));
            }
            if (bytes > _budget)
                throw new ArrayStoreFullException(
                    $"The array needs {bytes:N0} bytes but the whole array store holds {_budget:N0} (ConvService:Limits:ArrayStoreBytes). " +
                    "Send a smaller array or raise the limit.", tooLargeEver: true);
            for (var node = _lru.Last; _bytes + bytes > _budget && node is not null;)
            {
                var previous = node.Previous;
                if (node.Value.Pins == 0) Remove(node.Value);
                node = previous;
            }
            if (_bytes + bytes > _budget)
                throw new ArrayStoreFullException(
                    $"The array store is full of arrays that queued or running jobs still need ({_bytes:N0} of {_budget:N0} bytes). " +
                    "Retry when some jobs have finished.", tooLargeEver: false);
            var entry = new Entry(hash, array);
            entry.LruNode = _lru.AddFirst(entry);
            _entries.Add(id, entry);
            _bytes += bytes;
            return ValueTask.FromResult(new ArrayPutOutcome(StoredArrayInfo.Of(hash, array), KeptBuffer: true));
        }
    }

    /// <inheritdoc />
    public ValueTask<Array2D?> TryGetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var entry)) return ValueTask.FromResult<Array2D?>(null);
            Touch(entry);
            return ValueTask.FromResult<Array2D?>(entry.Array);
        }
    }

    /// <inheritdoc />
    public ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return ValueTask.FromResult(_entries.TryGetValue(id, out var entry) ? StoredArrayInfo.Of(entry.Hash, entry.Array) : null);
    }

    /// <inheritdoc />
    public ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var entry)) return ValueTask.FromResult(ArrayDeleteOutcome.NotFound);
            if (entry.Pins > 0) return ValueTask.FromResult(ArrayDeleteOutcome.InUse);
            Remove(entry);
            return ValueTask.FromResult(ArrayDeleteOutcome.Deleted);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out var entry)) return ValueTask.FromResult(false);
            entry.Pins++;
            Touch(entry);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            if (_entries.TryGetValue(id, out var entry) && entry.Pins > 0) entry.Pins--;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

    private void Touch(Entry entry)
    {
        if (entry.LruNode is null || entry.LruNode == _lru.First) return;
        _lru.Remove(entry.LruNode);
        _lru.AddFirst(entry.LruNode);
    }

    private void Remove(Entry entry)
    {
        _entries.Remove(entry.Id);
        if (entry.LruNode is not null) _lru.Remove(entry.LruNode);
        _bytes -= entry.Bytes;
    }
}
