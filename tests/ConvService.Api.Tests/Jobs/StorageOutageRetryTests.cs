using ConvService.Jobs;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ConvService.Api.Tests.Jobs;

/// <summary>
/// Hangfire's worker elects a failed state with the raw database exception when its own storage calls around a job fail
/// (loading the job, watching for aborts). Through this host's filters that must become a retry, like an outage inside the
/// job, and never fail an accepted job (the PostgreSQL outage test failed 1 run in CI: a job 'failed' with 0 attempts).
/// </summary>
public sealed class StorageOutageRetryTests
{
    [Fact]
    public void FailedState_WithADatabaseException_IsRetriedByTheJobsOwnPolicy()
    {
        // What Hangfire's CaptureCulture filter threw in CI when the database connection was lost.
        var state = ElectFailure(new InvalidOperationException("Could not get a value of the job parameter `CurrentCulture`. See inner exception for details.",
            new NpgsqlException("Exception while reading from stream")));
        var scheduled = Assert.IsType<ScheduledState>(state);
        Assert.Contains("Retry attempt 1 of 20", scheduled.Reason);
    }

    [Fact]
    public void FailedState_WithABug_StaysFailed()
    {
        var state = ElectFailure(new InvalidOperationException("a bug, not an outage"));
        Assert.IsType<FailedState>(state);
    }

    /// <summary>Runs Hangfire's real state machine, with this host's filter provider, on a failure of a convolution job.</summary>
    private static IState ElectFailure(Exception exception)
    {
        using var factory = new ConvServiceFactory();
        var storage = factory.Services.GetRequiredService<JobStorage>();
        // Scheduled far ahead, so no worker picks it up while the test moves its state.
        string id = factory.Services.GetRequiredService<IBackgroundJobClient>().Create(
            Job.FromExpression<ConvolutionJob>(job => job.RunAsync("no-such-record", CancellationToken.None)), new ScheduledState(TimeSpan.FromHours(1)));
        using var connection = storage.GetConnection();
        // The host's provider, with the faults of PostgreSQL storage (the in-memory host's Hangfire storage never raises Npgsql errors).
        var provider = new HostJobFilterProvider(factory.Services.GetRequiredService<JobRecordStateFilter>(),
            new StorageOutageRetryFilter(new ConvService.Storage.Postgres.PostgresStorageFaults()));
        var changer = new BackgroundJobStateChanger(provider);
        return changer.ChangeState(new StateChangeContext(storage, connection, id, new FailedState(exception), ScheduledState.StateName));
    }
}
