using ConvService.Http;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace ConvService.Jobs;

/// <summary>The last step of accepting work: handing it to Hangfire, or undoing what was recorded when Hangfire refuses.</summary>
public static class HangfireEnqueue
{
    /// <summary>
    /// Creates <paramref name="job"/> on <paramref name="queue"/> and returns its Hangfire id. When job storage does not
    /// answer, nothing was queued: <paramref name="undo"/> removes the record and its pins (so nothing stays 'queued'
    /// forever) and the caller gets a 503 that says nothing was accepted.
    /// </summary>
    /// <param name="hangfire">The Hangfire client.</param>
    /// <param name="job">The job to create.</param>
    /// <param name="queue">Its queue.</param>
    /// <param name="what">The kind of work, for the message ("job", "benchmark").</param>
    /// <param name="undo">Removes what was recorded for the work.</param>
    public static async Task<string> CreateOrUndoAsync(IBackgroundJobClient hangfire, Job job, string queue, string what, Func<Task> undo)
    {
        try
        {
            return hangfire.Create(job, new EnqueuedState(queue));
        }
        catch (Exception)
        {
            await undo();
            throw new RequestRejectedException(StatusCodes.Status503ServiceUnavailable, "Job storage unavailable",
                $"The {what} could not be queued because job storage did not answer; nothing was accepted. Retry shortly.", TimeSpan.FromSeconds(5));
        }
    }
}
