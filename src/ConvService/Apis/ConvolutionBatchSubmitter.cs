using ConvService.Jobs;
using ConvService.Model;
using ConvService.Apis.Contracts;
using ConvService.Http;
using ConvService.Observability;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ConvService.Apis;

// In the API layer, not Jobs: it answers each job with the problem POST /convolutions would have answered (Http's mapping).
/// <summary>
/// Submits many jobs at once (<c>POST /convolutions/batch</c>). Each job is validated and its inputs stored exactly as a
/// single submission's (<see cref="ConvolutionSubmitter.PrepareAsync"/>), and a refused one is reported in its item,
/// leaving nothing behind; the accepted ones are recorded in one transaction, handed to Hangfire, and their Hangfire ids
/// recorded in one more: a batch pays the durable commits of one job, not of each.
/// </summary>
public sealed class ConvolutionBatchSubmitter(
    ConvolutionSubmitter submitter, IJobStore jobs, IArrayStore arrays, IBackgroundJobClient hangfire, IJobMetrics metrics,
    IOptions<ConvServiceOptions> options, ILogger<ConvolutionBatchSubmitter> logger)
{
    /// <summary>Validates the batch itself (400/413/422/429 for all of it), then each job; returns one item per job.</summary>
    public async Task<ConvolutionBatchResponse> SubmitAsync(ConvolutionBatchRequest batch, string? owner, CancellationToken cancellationToken)
    {
        int max = options.Value.Limits.MaxBatchJobs;
        var requests = batch.Jobs ?? throw RequestRejectedException.BadRequest("Missing 'jobs': send {\"jobs\": [<body of POST /convolutions>, ...]}.");
        if (requests.Length == 0) throw RequestRejectedException.Unprocessable("'jobs' is empty: a batch needs at least one job.");
        if (requests.Length > max)
            throw RequestRejectedException.TooLarge(
                $"The batch has {requests.Length:N0} jobs, over the limit of {max:N0} (ConvService:Limits:MaxBatchJobs). Split it into several batches.");
        // The queue limit first and for the whole batch: a 429 must not leave inline inputs in the store.
        await submitter.EnsureQueueRoomAsync(requests.Length, cancellationToken);

        var items = new ConvolutionBatchItem[requests.Length];
        var accepted = new List<(int Index, ConvolutionJobRecord Record)>();
        for (int i = 0; i < requests.Length; i++)
        {
            try
            {
                var record = await PrepareAsync(requests[i], i, owner, cancellationToken);
                accepted.Add((i, record));
            }
            catch (Exception e) when (Refusal(e) is { } problem)
            {
                items[i] = new ConvolutionBatchItem(i, "refused", Problem: problem);
            }
            catch
            {
                await ReleaseAsync(accepted.Select(a => a.Record)); // storage failed: nothing of the batch was accepted
                throw;
            }
        }
        if (accepted.Count > 0)
        {
            int enqueued = await RecordAndEnqueueAsync(accepted, items, cancellationToken);
            foreach (var (index, record) in accepted)
                if (items[index] is null) items[index] = new ConvolutionBatchItem(index, "accepted", record.Id, record.Status, ConvolutionJobLinks.For(record.Id));
            logger.LogDebug("Batch of {Count} jobs: {Enqueued} enqueued.", requests.Length, enqueued);
        }
        int acceptedCount = items.Count(item => item.Outcome == "accepted");
        return new ConvolutionBatchResponse(acceptedCount, items.Length - acceptedCount, items);
    }

    /// <summary>One job: checked, inputs stored and pinned, its record built (not stored yet).</summary>
    private async Task<ConvolutionJobRecord> PrepareAsync(ConvolutionRequest? request, int index, string? owner, CancellationToken cancellationToken)
    {
        if (request is null) throw RequestRejectedException.BadRequest($"'jobs[{index}]' is null: every job is the body of POST /convolutions.");
        ConvolutionSubmitter.EnsureInputsGiven(request); // the refusal POST /convolutions gives
        var (normalized, choice) = await submitter.PrepareAsync(request, owner, cancellationToken);
        var record = await submitter.NewPinnedRecordAsync(normalized, choice, benchmarkId: null, owner);
        return record;
    }

    /// <summary>
    /// Records the accepted jobs (one transaction), enqueues each on Hangfire and records their Hangfire ids (one synchronous
    /// commit, which also makes Hangfire's asynchronous enqueues durable). When Hangfire fails part-way the jobs not yet
    /// enqueued are undone and reported as 503 in their items. Returns how many were enqueued.
    /// </summary>
    private async Task<int> RecordAndEnqueueAsync(List<(int Index, ConvolutionJobRecord Record)> accepted, ConvolutionBatchItem[] items, CancellationToken cancellationToken)
    {
        var records = accepted.Select(a => a.Record).ToList();
        try
        {
            if (jobs is IJobBatchStore batchStore) await batchStore.CreateAllAsync(records, cancellationToken);
            else foreach (var record in records) await jobs.CreateAsync(record, cancellationToken);
        }
        catch
        {
            await ReleaseAsync(records);
            throw;
        }

        var ids = new List<(string Id, string HangfireJobId)>(records.Count);
        for (int k = 0; k < accepted.Count; k++)
        {
            var (index, record) = accepted[k];
            var (job, queue) = ConvolutionJobs.For(record.Id, record.Method);
            try
            {
                ids.Add((record.Id, hangfire.Create(job, new EnqueuedState(queue))));
                metrics.Submitted(RequestParsing.Word(record.Method));
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Hangfire refused job {Index} of a batch; it and the {Rest} after it are not accepted.", index, accepted.Count - k - 1);
                for (int rest = k; rest < accepted.Count; rest++)
                {
                    var (restIndex, restRecord) = accepted[rest];
                    items[restIndex] = new ConvolutionBatchItem(restIndex, "refused", Problem: new ProblemDetails
                    {
                        Status = StatusCodes.Status503ServiceUnavailable, Title = "Job storage unavailable",
                        Detail = "The job could not be queued because job storage did not answer; it was not accepted. Retry shortly.",
                    });
                    try
                    {
                        await jobs.DeleteAsync(restRecord.Id, CancellationToken.None);
                        await JobInputs.ReleaseAsync(arrays, restRecord);
                    }
                    catch (Exception undo)
                    {
                        logger.LogWarning(undo, "Could not undo job {JobId} of a batch; the orphaned-job reconciler will run it.", restRecord.Id);
                    }
                }
                break;
            }
        }
        try
        {
            if (jobs is IJobBatchStore batchStore) await batchStore.SetHangfireIdsAsync(ids, CancellationToken.None);
            else foreach (var (id, hangfireId) in ids) await jobs.UpdateAsync(id, current => current with { HangfireJobId = hangfireId }, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Queued and going to run: the clients get their 202 (see HangfireEnqueue.TryRecordIdAsync for why).
            logger.LogWarning(e, "The Hangfire ids of a batch of {Count} jobs could not be recorded; they run anyway.", ids.Count);
        }
        return ids.Count;
    }

    private async Task ReleaseAsync(IEnumerable<ConvolutionJobRecord> records)
    {
        foreach (var record in records)
        {
            try { await JobInputs.ReleaseAsync(arrays, record); }
            catch (Exception e) { logger.LogWarning(e, "Could not release the inputs of job {JobId} of a refused batch.", record.Id); }
        }
    }

    /// <summary>The problem a single submission would have answered for <paramref name="exception"/>, when it is the job's own refusal (4xx).</summary>
    private static ProblemDetails? Refusal(Exception exception)
    {
        var (status, title, detail, _) = ProblemExceptionHandler.Map(exception);
        return status is >= 400 and < 500 ? new ProblemDetails { Status = status, Title = title, Detail = detail } : null;
    }
}
