using ConvService.Model;
using ConvService.Jobs;

namespace ConvService.Storage;

/// <summary>
/// A job store that records many jobs at once (<c>POST /convolutions/batch</c>): one transaction, one durable commit,
/// however many jobs. Stores without it are written job by job.
/// </summary>
public interface IJobBatchStore
{
    /// <summary>Creates every record, or none (a duplicate id or a failure creates nothing).</summary>
    ValueTask CreateAllAsync(IReadOnlyList<ConvolutionJobRecord> jobs, CancellationToken cancellationToken = default);

    /// <summary>Records the Hangfire id of each job (jobs deleted meanwhile are skipped), durably, in one commit.</summary>
    ValueTask SetHangfireIdsAsync(IReadOnlyList<(string Id, string HangfireJobId)> ids, CancellationToken cancellationToken = default);
}
