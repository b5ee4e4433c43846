using ConvService.Model;

namespace ConvService.Storage;

/// <summary>Benchmark reports in process memory.</summary>
public sealed class InMemoryBenchmarkStore : IBenchmarkStore
{
    private readonly AtomicRecordMap<BenchmarkReport> _reports = new();

    /// <inheritdoc />
    public ValueTask CreateAsync(BenchmarkReport report, CancellationToken cancellationToken = default)
    {
        if (!_reports.TryAdd(report.Id, report)) throw new InvalidOperationException($"Benchmark {report.Id} already exists.");
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BenchmarkReport?> TryGetAsync(string id, CancellationToken cancellationToken = default) => ValueTask.FromResult(_reports.TryGet(id));

    /// <inheritdoc />
    public ValueTask<(BenchmarkReport? Report, bool Changed)> UpdateAsync(string id, Func<BenchmarkReport, BenchmarkReport?> update, CancellationToken cancellationToken = default)
    {
        var (record, _, changed) = _reports.Update(id, update);
        return ValueTask.FromResult((record, changed));
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<BenchmarkReport>> ListAsync(int limit, string? after, string? owner, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<BenchmarkReport>>(_reports.Page(static r => r.Id, r => owner is null || r.Owner == owner, limit, after));

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => ValueTask.FromResult(_reports.TryRemove(id, out _));
}
