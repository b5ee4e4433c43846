using Hangfire.Common;

namespace ConvService.Jobs;

/// <summary>Hangfire's global filters plus this host's <see cref="JobRecordStateFilter"/> (see its remarks).</summary>
public sealed class HostJobFilterProvider(JobRecordStateFilter filter) : IJobFilterProvider
{
    /// <inheritdoc />
    public IEnumerable<JobFilter> GetFilters(Job job)
    {
        foreach (var global in JobFilterProviders.Providers.GetFilters(job)) yield return global;
        yield return new JobFilter(filter, JobFilterScope.Global, null);
    }
}
