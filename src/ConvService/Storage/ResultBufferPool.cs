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
/// the GC's gen-0 allocations are cheap and stay warm. Buffers of a size nobody asked for in
/// <see cref="IdleRelease"/> are let go, so an idle service does not keep the memory of its last big job.
/// </remarks>
public sealed class ResultBufferPool : IDisposable
{
    /// <summary>Smaller buffers come from the GC's gen-0 heap, which stays mapped.</summary>
    public const int MinPooledLength = 85_000 / sizeof(double);

    /// <summary>How long buffers of one size are kept without a job of that size.</summary>
    public static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(30);

    private readonly long _budget;
    private readonly TimeProvider _time;
    private readonly ITimer _trimTimer;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Stack<double[]>> _free = [];
    private readonly Dictionary<int, long> _lastUsed = [];
    private long _bytes;

    /// <summary>A pool with the configured budget, trimmed on <paramref name="time"/>'s clock.</summary>
    public ResultBufferPool(IOptions<ConvServiceOptions> options, TimeProvider time)
    {
        _budget = options.Value.Limits.ResultBufferPoolBytes;
        _time = time;
        _trimTimer = time.CreateTimer(_ => Trim(), null, IdleRelease, IdleRelease);
    }

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
                _lastUsed[(int)length] = _time.GetTimestamp();
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
            _lastUsed[buffer.Length] = _time.GetTimestamp();
        }
    }

    /// <summary>Lets go of the buffers of every size not rented or returned within <see cref="IdleRelease"/>.</summary>
    public void Trim()
    {
        lock (_gate)
        {
            foreach (var (length, last) in _lastUsed)
            {
                if (_time.GetElapsedTime(last) < IdleRelease) continue;
                if (_free.Remove(length, out var stack)) _bytes -= stack.Count * (long)length * sizeof(double);
                _lastUsed.Remove(length);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _trimTimer.Dispose();
}
