using System.Collections.Concurrent;

namespace ConvService.Jobs;

/// <summary>
/// In-process signals between requests and workers: completion (so <c>?wait=</c> answers the moment a
/// job ends, without polling) and cancellation of jobs running on this node. Keyed by any job id.
/// </summary>
public sealed class JobSignals
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
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

    /// <summary>
    /// Reads a record until it is finished or <paramref name="timeout"/> passes, waking at once on <see cref="Completed"/>
    /// and polling the store meanwhile (a job may finish on another node, whose signal never reaches this process).
    /// </summary>
    /// <returns>The last record read (null when unknown).</returns>
    public async Task<T?> WaitUntilFinishedAsync<T>(string id, Func<CancellationToken, ValueTask<T?>> read, Func<T, bool> isFinished,
        TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) where T : class
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var completed = WhenCompleted(id); // registered before the read, so a completion in between is not missed
            var record = await read(cancellationToken);
            if (record is null || isFinished(record))
            {
                Completed(id); // wake other waiters and drop the registration
                return record;
            }
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return record;
            await Task.WhenAny(completed, Task.Delay(remaining < PollInterval ? remaining : PollInterval, time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
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
