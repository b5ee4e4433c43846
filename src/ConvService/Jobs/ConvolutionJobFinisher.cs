using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>Finishes a <see cref="ConvolutionJob"/>'s record through the one transition to a final status, which releases the pins.</summary>
public sealed class ConvolutionJobFinisher(ConvolutionJobLifecycle lifecycle, JobSignals signals, ILogger<ConvolutionJobFinisher> logger) : IJobRecordFinisher
{
    /// <inheritdoc />
    public Type JobType => typeof(ConvolutionJob);

    /// <inheritdoc />
    public async Task FinishAsync(string id, JobStatus status, string error)
    {
        var (_, finished) = await lifecycle.FinishAsync(id, current => !current.Status.IsFinished(), status, error, computeMs: null, result: null, CancellationToken.None);
        if (!finished) return;
        signals.TryCancelRunning(id); // a run on this node stops now, not at its next cancellation check
        signals.Completed(id);
        logger.LogWarning("Job {JobId} is {Status}: {Error}", id, status, error);
    }
}
