namespace ConvService.Benchmarks;

/// <summary>
/// The dedicated threads the <c>serial</c> and <c>parallel</c> strategies run on: started once and reused by every run,
/// so no measurement pays for creating threads (a 600×600 benchmark's convolutions are shorter than a thread start),
/// and both strategies run on the same kind of thread.
/// </summary>
public sealed class BenchmarkThreads : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _go;
    private readonly CountdownEvent _done = new(1);
    private readonly Lock _runGate = new();
    private Action<int>? _body;
    private Exception? _failure;
    private volatile bool _disposed;

    /// <summary>Starts <paramref name="count"/> background threads that wait for work.</summary>
    public BenchmarkThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _threads = new Thread[count];
        _go = new SemaphoreSlim[count];
        for (int t = 0; t < count; t++)
        {
            int index = t;
            _go[t] = new SemaphoreSlim(0, 1);
            _threads[t] = new Thread(() => Work(index)) { IsBackground = true, Name = $"benchmark-{t}" };
            _threads[t].Start();
        }
    }

    /// <summary>How many threads there are.</summary>
    public int Count => _threads.Length;

    /// <summary>
    /// Runs <paramref name="body"/>(t) for t in [0, <paramref name="threads"/>) at once, one per thread, and returns when all
    /// have finished; rethrows the first exception. One run at a time.
    /// </summary>
    public void Run(int threads, Action<int> body)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, Count);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_runGate)
        {
            _body = body;
            _failure = null;
            _done.Reset(threads);
            for (int t = 0; t < threads; t++) _go[t].Release();
            _done.Wait();
            _body = null;
            if (_failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private void Work(int index)
    {
        while (true)
        {
            _go[index].Wait();
            if (_disposed) return;
            try { _body!(index); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            finally { _done.Signal(); }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var go in _go) go.Release();
    }
}
