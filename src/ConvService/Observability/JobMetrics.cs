using ConvService.Model;
using ConvService.Storage;
using Prometheus;

namespace ConvService.Observability;

/// <summary>
/// Counts job transitions for /metrics. Called once per transition by the code that makes it (the store's atomic
/// update says which caller won), so a job is never counted twice, even when several nodes race to finish it.
/// </summary>
public interface IJobMetrics
{
    /// <summary>A job was accepted and enqueued; <paramref name="method"/> is the concrete method chosen (direct, fft, naive).</summary>
    void Submitted(string method);

    /// <summary>A job reached a final status; <paramref name="computeMs"/> is its measured compute time when it succeeded.</summary>
    void Finished(string method, JobStatus status, double? computeMs);
}

/// <summary>
/// <see cref="IJobMetrics"/> on a prometheus-net registry owned by this host (not the process-wide default), so
/// several hosts in one process (the tests) each export only their own jobs.
/// </summary>
public sealed class PrometheusJobMetrics : IJobMetrics
{
    private readonly Counter _submitted;
    private readonly Counter _succeeded;
    private readonly Counter _failed;
    private readonly Counter _cancelled;
    private readonly Histogram _computeSeconds;

    /// <summary>Creates the series on <paramref name="registry"/>; the queue gauge reads the job store at each scrape.</summary>
    public PrometheusJobMetrics(CollectorRegistry registry, IJobStore jobs, ILogger<PrometheusJobMetrics> logger)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        string[] byMethod = ["method"];
        _submitted = factory.CreateCounter("convservice_jobs_submitted_total", "Convolution jobs accepted and enqueued, by the method chosen.", byMethod);
        _succeeded = factory.CreateCounter("convservice_jobs_succeeded_total", "Convolution jobs that finished with a result, by method.", byMethod);
        _failed = factory.CreateCounter("convservice_jobs_failed_total", "Convolution jobs that finished with an error, by method.", byMethod);
        _cancelled = factory.CreateCounter("convservice_jobs_cancelled_total", "Convolution jobs cancelled before they finished, by method.", byMethod);
        _computeSeconds = factory.CreateHistogram("convservice_job_compute_seconds", "Pure compute time of succeeded jobs (the job's computeMs), by method.",
            new HistogramConfiguration
            {
                LabelNames = byMethod,
                // 100 µs to ~100 s: tiny kernels on small images up to the largest direct convolutions the limits allow.
                Buckets = Histogram.ExponentialBuckets(0.0001, 4, 11),
            });
        foreach (var method in new[] { "direct", "fft", "naive" })
        {
            // Publish zeros up front so rate() and absent() work before the first job of each method.
            _submitted.WithLabels(method);
            _succeeded.WithLabels(method);
            _failed.WithLabels(method);
            _cancelled.WithLabels(method);
        }

        var queueLength = factory.CreateGauge("convservice_queue_length", "Jobs queued or running now (IJobStore.CountActiveAsync); NaN when the job store did not answer.");
        registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            try
            {
                queueLength.Set(await jobs.CountActiveAsync(cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A stale number would look healthy; NaN says "unknown" and the rest of the scrape still works.
                queueLength.Set(double.NaN);
                logger.LogWarning(e, "The job store did not answer for convservice_queue_length.");
            }
        });
    }

    /// <inheritdoc />
    public void Submitted(string method) => _submitted.WithLabels(method).Inc();

    /// <inheritdoc />
    public void Finished(string method, JobStatus status, double? computeMs)
    {
        switch (status)
        {
            case JobStatus.Succeeded:
                _succeeded.WithLabels(method).Inc();
                if (computeMs is { } ms) _computeSeconds.WithLabels(method).Observe(ms / 1000.0);
                break;
            case JobStatus.Failed:
                _failed.WithLabels(method).Inc();
                break;
            case JobStatus.Cancelled:
                _cancelled.WithLabels(method).Inc();
                break;
        }
    }
}

/// <summary>Counts requests refused before reaching an endpoint (missing or wrong API key, rate limit), by status.</summary>
public sealed class RefusalMetrics(CollectorRegistry registry)
{
    private readonly Counter _refused = Prometheus.Metrics.WithCustomRegistry(registry)
        .CreateCounter("convservice_requests_refused_total", "Requests refused by the API-key gate (401) or the rate limiter (429).", "status");

    /// <summary>Counts one refusal.</summary>
    public void Refused(int status) => _refused.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
}
