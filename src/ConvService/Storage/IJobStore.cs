using ConvService.Model;

namespace ConvService.Storage;

/// <summary>Durable record of convolution jobs, the source of truth for the API.</summary>
public interface IJobStore
{
    /// <summary>Adds a new job.</summary>
    ValueTask CreateAsync(ConvolutionJobRecord job, CancellationToken cancellationToken = default);

    /// <summary>The job, or null when unknown.</summary>
    ValueTask<ConvolutionJobRecord?> TryGetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically replaces a job with <paramref name="update"/>(current). When update returns null nothing changes.
    /// </summary>
    /// <returns>The stored record after the call (updated or not), or null when the job is unknown.</returns>
    ValueTask<(ConvolutionJobRecord? Record, bool Changed)> UpdateAsync(string id, Func<ConvolutionJobRecord, ConvolutionJobRecord?> update, CancellationToken cancellationToken = default);

    /// <summary>
    /// Newest first; only jobs older than <paramref name="after"/> when given; benchmark jobs excluded; only
    /// <paramref name="owner"/>'s jobs when given (null: every job, as without API keys).
    /// </summary>
    ValueTask<IReadOnlyList<ConvolutionJobRecord>> ListAsync(JobStatus? status, int limit, string? after, string? owner, CancellationToken cancellationToken = default);

    /// <summary>Removes a job; false when unknown.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>True when a job other than <paramref name="exceptJobId"/> has <paramref name="arrayId"/> as its result.</summary>
    ValueTask<bool> IsResultReferencedAsync(string arrayId, string exceptJobId, CancellationToken cancellationToken = default);

    /// <summary>Jobs queued or running (for the queue limit).</summary>
    ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default);
}
