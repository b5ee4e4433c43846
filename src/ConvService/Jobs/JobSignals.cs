using System.Collections.Concurrent;

namespace ConvService.Jobs;

/// <summary>
/// In-process signals between requests and workers: completion (so <c>?wait=</c> answers the moment a
/// job ends, without polling) and cancellation of jobs running on this node. Keyed by any job id.
/// </summary>
public sealed class JobSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _completions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>
    /// A task that completes when <see cref="Completed"/> is called for <paramref name="id"/>. Register
    /// before reading the job's status, so a completion between the read and the wait is not missed.
    /// </summary>
    public Task WhenCompleted(string id) =>
        _completions.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes everyone waiting for <paramref name="id"/>.</summary>
    public void Completed(string id)
    {
        if (_completions.TryRemove(id, out var tcs)) tcs.TrySetResult();
    }

    /// <summary>Forgets a waiter registration that nobody needs any more (timeouts), so the map cannot grow.</summary>
    public void Forget(string id, Task waiter)
    {
        if (!waiter.IsCompleted && _completions.TryGetValue(id, out var tcs) && tcs.Task == waiter)
            ((ICollection<KeyValuePair<string, TaskCompletionSource>>)_completions).Remove(new(id, tcs));
    }

    /// <summary>Registers a running job's cancellation source; dispose the result when the job ends.</summary>
    public IDisposable Running(string id, CancellationTokenSource source)
    {
        _running[id] = source;
        return new Registration(this, id, source);
    }

    /// <summary>Cancels the job if it runs on this node; false otherwise.</summary>
    public bool TryCancelRunning(string id)
    {
        if (!_running.TryGetValue(id, out var source)) return false;
        try { source.Cancel(); } catch (ObjectDisposedException) { return false; }
        return true;
    }

    private sealed class Registration(JobSignals owner, string id, CancellationTokenSource source) : IDisposable
    {
        public void Dispose() => ((ICollection<KeyValuePair<string, CancellationTokenSource>>)owner._running).Remove(new(id, source));
    }
}
