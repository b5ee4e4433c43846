using ConvService.Jobs;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests.Jobs;

/// <summary>
/// A job Hangfire enqueues again (a retry after a storage outage, or a requeue from the dashboard) goes back to the
/// queue of its kind: without the queue attribute it went to 'default', which no server serves, and its record stayed
/// 'running' forever (caught by the PostgreSQL outage test).
/// </summary>
public sealed class RequeueTests
{
    [Theory]
    [InlineData("direct", QueueNames.Convolutions)]
    [InlineData("gpu", QueueNames.Gpu)]
    public async Task Requeue_AFinishedJob_GoesBackToTheQueueOfItsKind(string method, string queue)
    {
        using var factory = new ConvServiceFactory().With("ConvService:Gpu:Device", "cpu");
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(
            "{\"image\": {\"data\": [[1, 2], [3, 4]]}, \"kernel\": {\"data\": [[1]]}, \"method\": \"" + method + "\"}");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var record = await factory.Services.GetRequiredService<ConvService.Storage.IJobStore>().TryGetAsync(job.GetProperty("id").GetString()!);
        string hangfireId = record!.HangfireJobId!;

        Assert.True(factory.Services.GetRequiredService<IBackgroundJobClient>().Requeue(hangfireId));
        var monitoring = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var enqueued = monitoring.JobDetails(hangfireId).History.First(h => h.StateName == "Enqueued"); // newest first
        Assert.Equal(queue, enqueued.Data["Queue"]);
    }
}
