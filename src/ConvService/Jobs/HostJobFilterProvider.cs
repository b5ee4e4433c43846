using Hangfire.Common;

namespace ConvService.Jobs;

/// <summary>Hangfire's global filters plus this host's <see cref="StorageOutageRetryFilter"/> and <see cref="JobRecordStateFilter"/> (see its remarks).</summary>
public sealed class HostJobFilterProvider(JobRecordStateFilter filter, StorageOutageRetryFilter outageRetry) : IJobFilterProvider
{
    /// <inheritdoc />
    public IEnumerable<JobFilter> GetFilters(Job job)
    {
        // Hangfire runs election filters in the order a provider lists them: the outage filter comes before the job
        // type's [AutomaticRetry] (listed among the global providers' filters), so the retry attribute sees its re-wrapped exception.
        yield return new JobFilter(outageRetry, JobFilterScope.Global, null);
        foreach (var global in JobFilterProviders.Providers.GetFilters(job)) yield return global;
        yield return new JobFilter(filter, JobFilterScope.Global, null);
    }
}
