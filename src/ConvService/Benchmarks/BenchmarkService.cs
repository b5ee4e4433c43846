using ConvService.Core.Convolution;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Options;

namespace ConvService.Benchmarks;

/// <summary>Submits, waits for, cancels and deletes benchmarks.</summary>
public sealed class BenchmarkService(
    BenchmarkPlanner planner, IBenchmarkStore benchmarks, IArrayStore arrays, IBackgroundJobClient hangfire, JobSignals signals, BenchmarkProgressBoard progress, TimeProvider time,
    IOptions<ConvServiceOptions> options, ILogger<BenchmarkService> logger)
{
    /// <summary>Plans, records and enqueues a benchmark.</summary>
    /// <param name="request">The request.</param>
    /// <param name="owner">The submitting key's owner id (null without keys).</param>
    /// <param name="cancellationToken">Cancels the submission.</param>
    public async Task<BenchmarkReport> SubmitAsync(BenchmarkRequest request, string? owner, CancellationToken cancellationToken)
    {
        // Checked before the plan stores any input, and again after (planning can take a while for generated inputs).
        await EnsureRoomAsync(cancellationToken);
        var (plan, choice, estimatedSeconds) = await planner.PrepareAsync(request, owner, cancellationToken);
        await EnsureRoomAsync(cancellationToken);
        var now = time.GetUtcNow();
        var report = new BenchmarkReport
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            Status = JobStatus.Queued,
            SubmittedAt = now,
            Progress = new BenchmarkProgress(0, (long)plan.ConvolutionsPerRun * (plan.Warmup + plan.Repetitions) * plan.Strategies.Length),
            Request = plan,
            Method = choice.Method,
            MethodReason = choice.Reason,
            MethodEstimateMs = choice.EstimatedMs,
            EstimatedSeconds = estimatedSeconds,
            Owner = owner,
        };
        if (!await BenchmarkInputs.PinAsync(arrays, report))
            throw RequestRefusedException.Unprocessable("An input array was evicted while the benchmark was being submitted; submit it again.");
        await HangfireEnqueue.CreatePinnedAsync(() => benchmarks.CreateAsync(report, cancellationToken).AsTask(), () => BenchmarkInputs.ReleaseAsync(arrays, report).AsTask());
        string id = report.Id;
        string hangfireId = await HangfireEnqueue.CreateOrUndoAsync(hangfire,
            Job.FromExpression<BenchmarkJob>(j => j.RunAsync(id, CancellationToken.None)), QueueNames.Benchmarks, "benchmark",
            async () =>
            {
                await benchmarks.DeleteAsync(id, CancellationToken.None);
                await BenchmarkInputs.ReleaseAsync(arrays, report);
            });
        BenchmarkReport? updated = null;
        await HangfireEnqueue.TryRecordIdAsync(
            async () => (updated, _) = await benchmarks.UpdateAsync(id, current => current with { HangfireJobId = hangfireId }, CancellationToken.None),
            logger, "benchmark", id);
        return updated ?? report;
    }

    /// <summary>Refuses with 429 and Retry-After when <see cref="LimitsOptions.MaxQueuedBenchmarks"/> are queued or running.</summary>
    private async Task EnsureRoomAsync(CancellationToken cancellationToken)
    {
        int max = options.Value.Limits.MaxQueuedBenchmarks;
        int active = await benchmarks.CountActiveAsync(cancellationToken);
        if (active >= max)
            throw RequestRefusedException.Busy("Benchmark queue full",
                $"{active} benchmarks are queued or running and the limit is {max} (ConvService:Limits:MaxQueuedBenchmarks); benchmarks run one at a time. " +
                "Retry after the running one finishes (GET /benchmarks shows them), or cancel one with DELETE /benchmarks/{id}.",
                TimeSpan.FromSeconds(30));
    }

    /// <summary>The report with live progress when it runs on this node.</summary>
    public async Task<BenchmarkReport?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var report = await benchmarks.TryGetAsync(id, cancellationToken);
        if (report is { Status: JobStatus.Running } && progress.TryGetCompleted(id, out long completed))
            report = report with { Progress = report.Progress with { Completed = completed } };
        return report;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the benchmark to finish.</summary>
    public Task<BenchmarkReport?> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken) =>
        signals.WaitUntilFinishedAsync(id, ct => new ValueTask<BenchmarkReport?>(GetAsync(id, ct)), static r => r.Status.IsFinished(), timeout, time, cancellationToken);

    /// <summary>Cancels a queued or running benchmark, or deletes a finished one.</summary>
    public async Task<(DeleteOutcome Outcome, BenchmarkReport? Report)> CancelOrDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var (report, cancelled) = await benchmarks.UpdateAsync(id, current => current.Status.IsFinished() ? null : current with
        {
            Status = JobStatus.Cancelled,
            FinishedAt = time.GetUtcNow(),
            Error = "Cancelled by request.",
        }, cancellationToken);
        if (report is null) return (DeleteOutcome.NotFound, null);
        if (!cancelled)
        {
            await benchmarks.DeleteAsync(id, cancellationToken);
            return (DeleteOutcome.Deleted, report);
        }
        // A running benchmark releases its inputs when its job unwinds; a queued one never will, so release here.
        if (!signals.TryCancelRunning(id) && report.StartedAt is null) await BenchmarkInputs.ReleaseAsync(arrays, report);
        if (report.HangfireJobId is { } hangfireId) hangfire.Delete(hangfireId);
        signals.Completed(id);
        return (DeleteOutcome.Cancelled, report);
    }
}
