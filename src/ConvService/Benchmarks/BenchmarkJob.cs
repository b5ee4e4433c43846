using ConvService.Jobs;
using ConvService.Model;
using ConvService.Storage;
using Hangfire;

namespace ConvService.Benchmarks;

/// <summary>
/// The Hangfire job behind <c>POST /benchmarks</c>. It runs on the <c>benchmarks</c> queue, served by a server of
/// its own with one worker, and holds a distributed lock, so benchmarks run one at a time across every node and
/// never wait behind small convolution jobs.
/// </summary>
[Queue(QueueNames.Benchmarks)]
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
[DisableConcurrentExecution(timeoutInSeconds: 24 * 3600)]
public sealed class BenchmarkJob(IBenchmarkStore benchmarks, IArrayStore arrays, BenchmarkRunner runner,
    BenchmarkProgressBoard progress, IStorageFaults faults, JobSignals signals, TimeProvider time, ILogger<BenchmarkJob> logger)
{
    /// <summary>Runs benchmark <paramref name="benchmarkId"/>.</summary>
    public async Task RunAsync(string benchmarkId, CancellationToken cancellationToken)
    {
        var (report, started) = await benchmarks.UpdateAsync(benchmarkId, current => current.Status != JobStatus.Queued ? null : current with
        {
            Status = JobStatus.Running,
            StartedAt = time.GetUtcNow(),
        }, CancellationToken.None);
        if (report is null || !started) return; // cancelled while queued, or already run by an earlier delivery

        using var userCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var registration = signals.Running(benchmarkId, userCancel);
        using var stopProgress = new CancellationTokenSource();
        // On the thread pool: Hangfire runs this job's continuations on its worker thread, which the run itself keeps busy.
        var progressWriter = Task.Run(() => WriteProgressAsync(benchmarkId, stopProgress.Token));
        try
        {
            var outcome = await runner.RunAsync(report, BenchmarkPlanner.JobTemplate(report), userCancel.Token);
            await FinishAsync(benchmarkId, current => current with
            {
                Status = JobStatus.Succeeded,
                Results = outcome.Results,
                Environment = outcome.Environment,
                ResultsAgree = outcome.Agree,
                Warnings = outcome.Warnings,
                Summary = BenchmarkSummary.Describe(outcome.Results, outcome.Environment, outcome.Agree, outcome.Warnings),
                Progress = current.Progress with { Completed = current.Progress.Total },
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await FinishAsync(benchmarkId, current => current with { Status = JobStatus.Cancelled, Error = "Cancelled by request." });
        }
        catch (OperationCanceledException)
        {
            throw; // server shutdown: Hangfire re-queues it
        }
        catch (Exception e)
        {
            logger.LogError(e, "Benchmark {BenchmarkId} failed.", benchmarkId);
            await FinishAsync(benchmarkId, current => current with
            {
                Status = JobStatus.Failed,
                Error = e is RequestRefusedException or InvalidOperationException or Core.Convolution.ConvolutionRefusedException
                    ? e.Message : "The benchmark failed unexpectedly: " + e.GetType().Name + ".",
            });
            throw;
        }
        finally
        {
            await stopProgress.CancelAsync();
            await progressWriter;
            await BenchmarkInputs.ReleaseAsync(arrays, report);
        }
    }

    /// <summary>How often a running benchmark's progress is written to its report.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Writes this node's live progress into the stored report every <see cref="ProgressInterval"/> while the run lasts,
    /// so a node other than the one running it (PostgreSQL) shows it too. Best effort: a failed write only delays it.
    /// </summary>
    private async Task WriteProgressAsync(string benchmarkId, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProgressInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (!progress.TryGetCompleted(benchmarkId, out long completed)) continue;
            try
            {
                await benchmarks.UpdateAsync(benchmarkId, current => current.Status != JobStatus.Running || current.Progress.Completed == completed ? null
                    : current with { Progress = current.Progress with { Completed = completed } }, CancellationToken.None);
            }
            catch (Exception e) when (faults.IsUnavailable(e))
            {
                logger.LogDebug(e, "Progress of benchmark {BenchmarkId} not written this time.", benchmarkId);
            }
        }
    }

    private async Task FinishAsync(string benchmarkId, Func<BenchmarkReport, BenchmarkReport> finish)
    {
        await benchmarks.UpdateAsync(benchmarkId, current => current.Status != JobStatus.Running ? null : finish(current) with
        {
            FinishedAt = time.GetUtcNow(),
        }, CancellationToken.None);
        signals.Completed(benchmarkId);
    }
}
