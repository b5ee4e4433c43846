using ConvService.Core.Arrays;
using ConvService.Options;
using Microsoft.Extensions.Options;

namespace ConvService.Storage;

/// <summary>
/// Result buffers that the array store did not keep — the result was already stored (a repeated job, every
/// benchmark iteration after the first), or the store copied it into PostgreSQL — held for the next job of the
/// same size, up to <see cref="LimitsOptions.ResultBufferPoolBytes"/>.
/// </summary>
/// <remarks>
/// Why: a fresh multi-megabyte array is fresh memory to the OS, and the GC hands freed large-object memory back,
/// so every new result paid one page fault per 4 KB on first touch: on the reference VM ~700 faults per tutorial
/// output, as long as the convolution itself. A reused buffer is already mapped. Small results are not pooled:
/// the GC's gen-0 allocations are cheap and stay warm.
/// </remarks>
public sealed class ResultBufferPool(IOptions<ConvServiceOptions> options)
{
    /// <summary>Smaller buffers come from the GC's gen-0 heap, which stays mapped.</summary>
    public const int MinPooledLength = 85_000 / sizeof(double);

    private readonly long _budget = options.Value.Limits.ResultBufferPoolBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Stack<double[]>> _free = [];
    private long _bytes;

    /// <summary>Bytes held for reuse now.</summary>
    public long Bytes { get { lock (_gate) return _bytes; } }

    /// <summary>An array of this shape whose contents are undefined: write every element before reading.</summary>
    public Array2D Rent(int rows, int cols)
    {
        long length = (long)rows * cols;
        if (length >= MinPooledLength && length <= Array.MaxLength)
        {
            lock (_gate)
            {
                if (_free.TryGetValue((int)length, out var stack) && stack.TryPop(out var buffer))
                {
                    _bytes -= buffer.Length * (long)sizeof(double);
                    return new Array2D(rows, cols, buffer);
                }
            }
        }
        return Array2D.CreateUninitialized(rows, cols);
    }

    /// <summary>Hands back a buffer from <see cref="Rent"/> that nothing references any more.</summary>
    public void Return(Array2D array)
    {
        var buffer = array.Data;
        long bytes = buffer.Length * (long)sizeof(double);
        if (buffer.Length < MinPooledLength || bytes > _budget) return;
        lock (_gate)
        {
            // Make room by dropping buffers of other sizes first: the size just returned is the one in use.
            foreach (var (length, stack) in _free)
            {
                if (_bytes + bytes <= _budget) break;
                if (length == buffer.Length) continue;
                while (_bytes + bytes > _budget && stack.TryPop(out var dropped)) _bytes -= dropped.Length * (long)sizeof(double);
            }
            if (_bytes + bytes > _budget) return;
            if (!_free.TryGetValue(buffer.Length, out var own)) _free[buffer.Length] = own = new Stack<double[]>();
            own.Push(buffer);
            _bytes += bytes;
        }
    }
}
