using ConvService.Jobs;
using ConvService.Model;
using ConvService.Storage;

namespace ConvService.Benchmarks;

/// <summary>Finishes a <see cref="BenchmarkJob"/>'s report when Hangfire gives it up or it is deleted in the dashboard.</summary>
public sealed class BenchmarkJobFinisher(IBenchmarkStore benchmarks, IArrayStore arrays, JobSignals signals, TimeProvider time,
    ILogger<BenchmarkJobFinisher> logger) : IJobRecordFinisher
{
    /// <inheritdoc />
    public Type JobType => typeof(BenchmarkJob);

    /// <inheritdoc />
    public async Task FinishAsync(string id, JobStatus status, string error)
    {
        var (report, finished) = await benchmarks.UpdateAsync(id, current => current.Status.IsFinished() ? null : current with
        {
            Status = status,
            FinishedAt = time.GetUtcNow(),
            Error = error,
        }, CancellationToken.None);
        if (!finished) return;
        // A run releases its inputs when it unwinds; one that never started never will.
        if (!signals.TryCancelRunning(id) && report!.StartedAt is null) await BenchmarkInputs.ReleaseAsync(arrays, report);
        signals.Completed(id);
        logger.LogWarning("Benchmark {BenchmarkId} is {Status}: {Error}", id, status, error);
    }
}
