using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>
/// Finishes the record behind one kind of Hangfire job when Hangfire gives the job up or it is deleted outside our API
/// (see <see cref="JobRecordStateFilter"/>). Each kind of job registers its own, so the filter knows none of them.
/// </summary>
public interface IJobRecordFinisher
{
    /// <summary>The Hangfire job class whose records this finishes.</summary>
    Type JobType { get; }

    /// <summary>Moves record <paramref name="id"/> to <paramref name="status"/> unless it is final already; releases what it pinned.</summary>
    Task FinishAsync(string id, JobStatus status, string error);
}
