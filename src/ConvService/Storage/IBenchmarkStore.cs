using ConvService.Model;

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

    /// <summary>Newest first, older than <paramref name="after"/> when given, only <paramref name="owner"/>'s when given (null: all).</summary>
    ValueTask<IReadOnlyList<BenchmarkReport>> ListAsync(int limit, string? after, string? owner, CancellationToken cancellationToken = default);

    /// <summary>Removes a report; false when unknown.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reports still queued or running. The default pages through <see cref="ListAsync"/> (benchmarks are few: each
    /// runs for seconds to minutes, one at a time); a store with an index can answer it directly.
    /// </summary>
    async ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default)
    {
        int active = 0;
        string? after = null;
        while (true)
        {
            var page = await ListAsync(500, after, owner: null, cancellationToken);
            foreach (var report in page)
                if (!report.Status.IsFinished()) active++;
            if (page.Count < 500) return active;
            after = page[^1].Id;
        }
    }
}
