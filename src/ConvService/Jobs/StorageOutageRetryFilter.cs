using ConvService.Storage;
using Hangfire.States;

namespace ConvService.Jobs;

/// <summary>
/// Makes an outage of Hangfire's own storage count as the outage it is. Hangfire's worker talks to the storage around a
/// job as well as inside it (it loads the job's data; its global <c>CaptureCulture</c> filter reads the job parameter
/// <c>CurrentCulture</c> before the job runs); when one of those calls fails it elects a <see cref="FailedState"/>
/// carrying that exception (caught in CI: "Could not get a value of the job parameter `CurrentCulture`", an
/// InvalidOperationException over the Npgsql error). <c>[AutomaticRetry(OnlyOn = StorageUnavailableException)]</c>
/// on <see cref="ConvolutionJob"/> does not match that type, so an accepted job failed for a database blip (found by the
/// outage test in CI: a job failed with 0 attempts, after the database was back). This filter runs first in the election
/// (listed first by <see cref="HostJobFilterProvider"/>, before the job type's retry attribute) and re-wraps such an exception as a
/// <see cref="StorageUnavailableException"/>, so the job's own retry policy — its attempts and delays — decides.
/// </summary>
public sealed class StorageOutageRetryFilter(IStorageFaults faults) : IElectStateFilter
{
    /// <inheritdoc />
    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState { Exception: { } exception } failed) return;
        if (exception is StorageUnavailableException || !faults.IsUnavailable(exception)) return;
        context.CandidateState = new FailedState(new StorageUnavailableException("Hangfire could not reach its storage: " + exception.Message, exception), failed.ServerId)
        {
            Reason = failed.Reason,
        };
    }
}
