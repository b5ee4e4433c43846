using System.Net;

namespace ConvService.Api.Tests.Security;

public sealed class MetricsTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    // Enough naive multiply-adds (about 1e9) to stay running for a while on any machine, within the default limits.
    private const string LongJob = """{"image": {"generate": {"shape": [1000, 1000], "fill": "normal", "seed": 1}}, "kernel": {"generate": {"shape": [31, 31], "fill": "normal", "seed": 2}}, "method": "naive"}""";

    [Fact]
    public async Task Metrics_ArePrometheusTextWithEveryNamedSeries()
    {
        using var client = factory.CreateClient();
        await client.GetAsync("/health"); // at least one request has been counted before the scrape
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        foreach (var (name, type) in new[]
        {
            ("convservice_jobs_submitted_total", "counter"), ("convservice_jobs_succeeded_total", "counter"),
            ("convservice_jobs_failed_total", "counter"), ("convservice_jobs_cancelled_total", "counter"),
            ("convservice_queue_length", "gauge"), ("convservice_job_compute_seconds", "histogram"),
            ("convservice_requests_refused_total", "counter"),
            ("http_requests_received_total", "counter"), ("http_request_duration_seconds", "histogram"),
            ("process_cpu_seconds_total", "counter"),
        })
        {
            Assert.Contains($"# TYPE {name} {type}\n", text);
        }
        foreach (var method in new[] { "direct", "fft", "naive" })
            Assert.NotNull(Ops.Sample(text, $"convservice_jobs_submitted_total{{method=\"{method}\"}}"));
        Assert.True(Ops.SumOf(text, "http_requests_received_total", "code=\"200\"", "method=\"GET\"", "endpoint=\"/health/\"") >= 1, text);
    }

    [Fact]
    public async Task JobCounters_AndComputeHistogram_MoveAfterAJob()
    {
        using var client = factory.CreateClient();
        string before = await Ops.ScrapeAsync(client);
        var job = await client.SubmitAndWaitAsync(Ops.SmallJob);
        string method = job.GetProperty("method").GetString()!;
        string after = await Ops.ScrapeAsync(client);

        string label = $"{{method=\"{method}\"}}";
        Assert.Equal(1, Ops.Delta(before, after, "convservice_jobs_submitted_total" + label));
        Assert.Equal(1, Ops.Delta(before, after, "convservice_jobs_succeeded_total" + label));
        Assert.Equal(0, Ops.Delta(before, after, "convservice_jobs_failed_total" + label));
        Assert.Equal(1, Ops.Delta(before, after, "convservice_job_compute_seconds_count" + label));
        // The histogram's sum grows by the job's own measured compute time.
        double computeSeconds = job.GetProperty("timing").GetProperty("computeMs").GetDouble() / 1000;
        double sumGrowth = Ops.Delta(before, after, "convservice_job_compute_seconds_sum" + label);
        Assert.Equal(computeSeconds, sumGrowth, 1e-6);
        // Requests are counted by route pattern and status.
        Assert.True(Ops.SumOf(after, "http_requests_received_total", "code=\"200\"", "method=\"POST\"", "endpoint=\"/convolutions/\"") >= 1, after);
    }

    [Fact]
    public async Task QueueGauge_CountsARunningJob_AndCancellationIsCounted()
    {
        using var client = factory.CreateClient();
        string before = await Ops.ScrapeAsync(client);
        var submitted = await client.PostAsync("/convolutions", ApiClient.Json(LongJob));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        string id = (await submitted.ReadJsonAsync()).GetProperty("id").GetString()!;

        string during = await Ops.ScrapeAsync(client);
        Assert.True(Ops.Sample(during, "convservice_queue_length") >= 1, during);

        var cancel = await client.DeleteAsync("/convolutions/" + id);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await cancel.ReadJsonAsync()).GetProperty("status").GetString());
        string after = await Ops.ScrapeAsync(client);
        Assert.Equal(0.0, Ops.Sample(after, "convservice_queue_length"));
        const string naive = "{method=\"naive\"}";
        Assert.Equal(1, Ops.Delta(before, after, "convservice_jobs_cancelled_total" + naive));

        // The worker notices the cancellation a moment later; it must not count the job again (or as succeeded).
        await Task.Delay(1000);
        string settled = await Ops.ScrapeAsync(client);
        Assert.Equal(1, Ops.Delta(before, settled, "convservice_jobs_cancelled_total" + naive));
        Assert.Equal(0, Ops.Delta(before, settled, "convservice_jobs_succeeded_total" + naive));
    }

    [Fact]
    public async Task Refusals_AreCountedUnderTheirRoute()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/convolutions/0123456789abcdef0123456789abcdef")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/convolutions", ApiClient.Json("{\"image\": "))).StatusCode);
        string text = await Ops.ScrapeAsync(client);
        // The exception handler clears the endpoint before answering; the route must still be the label.
        Assert.True(Ops.SumOf(text, "http_requests_received_total", "code=\"404\"", "endpoint=\"/convolutions/{id}\"") >= 1, text);
        Assert.True(Ops.SumOf(text, "http_requests_received_total", "code=\"400\"", "method=\"POST\"", "endpoint=\"/convolutions/\"") >= 1, text);
        Assert.True(Ops.SumOf(text, "http_request_duration_seconds_count", "code=\"404\"", "endpoint=\"/convolutions/{id}\"") >= 1, text);
    }
}
