using ConvService.Model;
using ConvService.Options;
using Microsoft.Extensions.Options;

namespace ConvService.Storage;

/// <summary>Job records in process memory; the oldest finished jobs are forgotten beyond <see cref="LimitsOptions.MaxRetainedJobs"/>.</summary>
public sealed class InMemoryJobStore(IOptions<ConvServiceOptions> options) : IJobStore
{
    private readonly AtomicRecordMap<ConvolutionJobRecord> _jobs = new();
    private readonly int _maxRetained = options.Value.Limits.MaxRetainedJobs;
    private int _active;
    private int _trimming;

    /// <inheritdoc />
    public ValueTask CreateAsync(ConvolutionJobRecord job, CancellationToken cancellationToken = default)
    {
        if (!_jobs.TryAdd(job.Id, job)) throw new InvalidOperationException($"Job {job.Id} already exists.");
        if (!job.Status.IsFinished()) Interlocked.Increment(ref _active);
        if (_jobs.Count > _maxRetained) TrimOldestFinished();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<ConvolutionJobRecord?> TryGetAsync(string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_jobs.TryGet(id));

    /// <inheritdoc />
    public ValueTask<(ConvolutionJobRecord? Record, bool Changed)> UpdateAsync(
        string id, Func<ConvolutionJobRecord, ConvolutionJobRecord?> update, CancellationToken cancellationToken = default)
    {
        var (record, previous, changed) = _jobs.Update(id, update);
        if (changed && !previous!.Status.IsFinished() && record!.Status.IsFinished()) Interlocked.Decrement(ref _active);
        return ValueTask.FromResult((record, changed));
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ConvolutionJobRecord>> ListAsync(JobStatus? status, int limit, string? after, string? owner, CancellationToken cancellationToken = default)
    {
        // Benchmark convolutions are measurement, not user jobs: the list hides them.
        var page = _jobs.Page(static j => j.Id, job => job.BenchmarkId is null && (status is null || job.Status == status) && job.IsVisibleTo(owner), limit, after);
        return ValueTask.FromResult<IReadOnlyList<ConvolutionJobRecord>>(page);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!_jobs.TryRemove(id, out var removed)) return ValueTask.FromResult(false);
        if (!removed.Status.IsFinished()) Interlocked.Decrement(ref _active);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask<bool> IsResultReferencedAsync(string arrayId, string exceptJobId, CancellationToken cancellationToken = default)
    {
        foreach (var job in _jobs.Values)
            if (job.Result?.ArrayId == arrayId && job.Id != exceptJobId) return ValueTask.FromResult(true);
        return ValueTask.FromResult(false);
    }

    /// <inheritdoc />
    public ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Volatile.Read(ref _active));

    private void TrimOldestFinished()
    {
        // One trimmer at a time; it removes a tenth of the budget at once so trimming stays rare.
        if (Interlocked.Exchange(ref _trimming, 1) == 1) return;
        try
        {
            var finished = new List<string>();
            foreach (var job in _jobs.Values)
                if (job.Status.IsFinished()) finished.Add(job.Id);
            finished.Sort(StringComparer.Ordinal);
            int excess = _jobs.Count - _maxRetained + Math.Max(1, _maxRetained / 10);
            for (int i = 0; i < Math.Min(excess, finished.Count); i++) _jobs.TryRemove(finished[i], out _);
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}
