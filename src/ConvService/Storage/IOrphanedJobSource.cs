using ConvService.Core.Convolution;

namespace ConvService.Storage;

/// <summary>
/// Finds job records that are <c>queued</c> or <c>running</c> while no live job-engine job will ever run them (see
/// <c>Jobs/OrphanedJobReconciler</c>). Only a storage that outlives a process has them: PostgreSQL's.
/// </summary>
public interface IOrphanedJobSource
{
    /// <summary>How often to look, and how long a record must have been unchanged to count.</summary>
    TimeSpan CheckInterval { get; }

    /// <summary>
    /// Finds a bounded batch of orphans and hands them to <paramref name="repair"/> while holding a cluster-wide lock, so
    /// two nodes never repair one record twice; false (without calling it) when another node holds the lock.
    /// </summary>
    Task<bool> RepairAsync(Func<IReadOnlyList<OrphanedJob>, CancellationToken, Task> repair, CancellationToken cancellationToken);
}

/// <summary>An orphaned record: its id, its concrete method, and whether its engine job was deleted (in the dashboard).</summary>
public sealed record OrphanedJob(string Id, ConvolutionMethod Method, bool EngineJobDeleted);
