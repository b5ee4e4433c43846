using System.Collections.Concurrent;

namespace ConvService.Benchmarks;

/// <summary>
/// Convolutions done so far by the benchmarks running on this node, for live progress: the runner counts, the job writes
/// the count into the stored report now and then, and <c>GET /benchmarks/{id}</c> reads it between writes. One per host
/// (a singleton): hosts in one process run their own benchmarks.
/// </summary>
public sealed class BenchmarkProgressBoard
{
    private readonly ConcurrentDictionary<string, BenchmarkProgressCounter> _running = new(StringComparer.Ordinal);

    /// <summary>The counter of benchmark <paramref name="id"/>, created at zero when it starts.</summary>
    public BenchmarkProgressCounter Start(string id) => _running.GetOrAdd(id, static _ => new BenchmarkProgressCounter());

    /// <summary>Forgets benchmark <paramref name="id"/>'s counter: the run is over.</summary>
    public void Stop(string id) => _running.TryRemove(id, out _);

    /// <summary>Convolutions done by benchmark <paramref name="id"/>, when it runs on this node.</summary>
    public bool TryGetCompleted(string id, out long completed)
    {
        if (_running.TryGetValue(id, out var counter))
        {
            completed = counter.Completed;
            return true;
        }
        completed = 0;
        return false;
    }
}

/// <summary>One running benchmark's count of finished convolutions, added to from several threads at once.</summary>
public sealed class BenchmarkProgressCounter
{
    private long _completed;

    /// <summary>Convolutions completed.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Adds <paramref name="count"/> finished convolutions.</summary>
    public void Add(long count) => Interlocked.Add(ref _completed, count);
}
