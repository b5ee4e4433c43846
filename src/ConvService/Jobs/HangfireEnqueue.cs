using ConvService.Model;
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
            throw RequestRefusedException.Unavailable("Job storage unavailable",
                $"The {what} could not be queued because job storage did not answer; nothing was accepted. Retry shortly.", TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>
    /// Records a queued job's Hangfire id, tolerating a store that fails now: the job is queued and will run, so the
    /// client must get its 202 (a 503 "nothing was accepted" would make it submit again and run the work twice). The id
    /// only lets a DELETE remove the Hangfire job at once; without it a cancelled job is skipped when a worker picks it
    /// up (its record is final), and the dashboard-delete filter finds the record by the job's argument, not by this id.
    /// </summary>
    /// <returns>False when the id could not be recorded.</returns>
    public static async Task<bool> TryRecordIdAsync(Func<Task> record, ILogger logger, string what, string id)
    {
        try
        {
            await record();
            return true;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The {What} {Id} is queued but its Hangfire id could not be recorded; it runs anyway.", what, id);
            return false;
        }
    }

    /// <summary>
    /// Creates a record whose inputs are already pinned, releasing the pins when the create fails: otherwise nothing
    /// would ever release them and the inputs could never be evicted or deleted.
    /// </summary>
    public static async Task CreatePinnedAsync(Func<Task> create, Func<Task> unpin)
    {
        try
        {
            await create();
        }
        catch
        {
            await unpin();
            throw;
        }
    }
}
