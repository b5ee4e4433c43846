using ConvService.Options;
using Microsoft.Extensions.Options;

namespace ConvService.Storage;

/// <summary>
/// FITS headers in process memory, bounded by <see cref="LimitsOptions.FitsHeaderStoreBytes"/>: the least recently
/// used go first. Losing one only means a result is served as FITS without its input's keywords.
/// </summary>
public sealed class InMemoryArrayHeaderStore(IOptions<ConvServiceOptions> options) : IArrayHeaderStore
{
    private readonly long _budget = options.Value.Limits.FitsHeaderStoreBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Id, string Text)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Id, string Text)> _lru = new(); // most recently used first
    private long _bytes;

    /// <inheritdoc />
    public ValueTask PutAsync(string arrayId, string headerText, CancellationToken cancellationToken = default)
    {
        long bytes = headerText.Length * sizeof(char);
        lock (_gate)
        {
            if (_entries.Remove(arrayId, out var old))
            {
                _lru.Remove(old);
                _bytes -= old.Value.Text.Length * sizeof(char);
            }
            if (bytes > _budget) return ValueTask.CompletedTask;
            while (_bytes + bytes > _budget && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _entries.Remove(last.Value.Id);
                _bytes -= last.Value.Text.Length * sizeof(char);
            }
            _entries[arrayId] = _lru.AddFirst((arrayId, headerText));
            _bytes += bytes;
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<string?> TryGetAsync(string arrayId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(arrayId, out var node)) return ValueTask.FromResult<string?>(null);
            _lru.Remove(node);
            _lru.AddFirst(node);
            return ValueTask.FromResult<string?>(node.Value.Text);
        }
    }
}
