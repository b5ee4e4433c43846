using System.Collections.Concurrent;
using ConvService.Benchmarks;

namespace ConvService.Storage;

/// <summary>Benchmark reports, replaced atomically like job records.</summary>
public interface IBenchmarkStore
{
    /// <summary>Adds a report.</summary>
    ValueTask CreateAsync(BenchmarkReport report, CancellationToken cancellationToken = default);

    /// <summary>The report, or null.</summary>
    ValueTask<BenchmarkReport?> TryGetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Atomically applies <paramref name="update"/> (null = no change); returns the stored report and whether it changed.</summary>
    ValueTask<(BenchmarkReport? Report, bool Changed)> UpdateAsync(string id, Func<BenchmarkReport, BenchmarkReport?> update, CancellationToken cancellationToken = default);

    /// <summary>Newest first, older than <paramref name="after"/> when given.</summary>
    ValueTask<IReadOnlyList<BenchmarkReport>> ListAsync(int limit, string? after, CancellationToken cancellationToken = default);

    /// <summary>Removes a report; false when unknown.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);
}

/// <summary>Benchmark reports in process memory.</summary>
public sealed class InMemoryBenchmarkStore : IBenchmarkStore
{
    private readonly ConcurrentDictionary<string, BenchmarkReport> _reports = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask CreateAsync(BenchmarkReport report, CancellationToken cancellationToken = default)
    {
        if (!_reports.TryAdd(report.Id, report)) throw new InvalidOperationException($"Benchmark {report.Id} already exists.");
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BenchmarkReport?> TryGetAsync(string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_reports.TryGetValue(id, out var report) ? report : null);

    /// <inheritdoc />
    public ValueTask<(BenchmarkReport? Report, bool Changed)> UpdateAsync(string id, Func<BenchmarkReport, BenchmarkReport?> update, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!_reports.TryGetValue(id, out var current)) return ValueTask.FromResult<(BenchmarkReport?, bool)>((null, false));
            var next = update(current);
            if (next is null) return ValueTask.FromResult<(BenchmarkReport?, bool)>((current, false));
            if (_reports.TryUpdate(id, next, current)) return ValueTask.FromResult<(BenchmarkReport?, bool)>((next, true));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<BenchmarkReport>> ListAsync(int limit, string? after, CancellationToken cancellationToken = default)
    {
        var matches = new List<BenchmarkReport>();
        foreach (var report in _reports.Values)
            if (after is null || string.CompareOrdinal(report.Id, after) < 0) matches.Add(report);
        matches.Sort(static (a, b) => string.CompareOrdinal(b.Id, a.Id));
        if (matches.Count > limit) matches.RemoveRange(limit, matches.Count - limit);
        return ValueTask.FromResult<IReadOnlyList<BenchmarkReport>>(matches);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => ValueTask.FromResult(_reports.TryRemove(id, out _));
}
