using ConvService.Observability;
using Prometheus;

namespace ConvService.Extensions;

/// <summary>
/// <c>/metrics</c> in the Prometheus text format, through prometheus-net.AspNetCore 8.2.1. Chosen over OpenTelemetry's
/// Prometheus exporter because that one is still a pre-release (1.20.1-beta.1, the only version served) and would
/// bring the whole OpenTelemetry SDK for one endpoint; prometheus-net is stable, already pinned in
/// Directory.Packages.props, and its HTTP middleware gives request counts and durations by route and status.
/// </summary>
public static class MetricsExtensions
{
    /// <summary>Registers this host's metric registry, the job metrics and the refusal counter.</summary>
    public static WebApplicationBuilder AddConvServiceMetrics(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // One registry per host rather than prometheus-net's process-wide default: hosts in one process (the tests)
        // never mix their series, and the queue gauge's callback belongs to this host's job store.
        services.AddSingleton(_ =>
        {
            var registry = Prometheus.Metrics.NewCustomRegistry();
            DotNetStats.Register(registry); // process_* and dotnet_* series (CPU, memory, GC, threads)
            return registry;
        });
        services.AddSingleton<IJobMetrics, PrometheusJobMetrics>();
        services.AddSingleton<RefusalMetrics>();
        return builder;
    }

    /// <summary>
    /// Adds the HTTP request metrics and maps <c>GET /metrics</c>. Call before <c>UseExceptionHandler</c>, so a request
    /// that ends in an exception is counted with the 500 the handler answers rather than the 200 it started with.
    /// </summary>
    public static WebApplication UseConvServiceMetrics(this WebApplication app)
    {
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        app.Services.GetRequiredService<IJobMetrics>(); // create the job series now, so /metrics lists them before the first job
        // prometheus-net labels requests by their raw method, and any token is a valid HTTP method: `curl -X RANDOM123`
        // would add series without bound (and "get", "Get"… would each be one). Standard methods are put in their
        // canonical spelling, which routing matches anyway (case-insensitively), and every other token becomes OTHER
        // before the metrics see it; no endpoint serves such a method, so the answer is the same 404/405 as before.
        app.Use((context, next) =>
        {
            context.Request.Method = MetricMethod(context.Request.Method);
            return next(context);
        });
        app.UseHttpMetrics(options =>
        {
            // Exact status codes are kept (429 and 401 matter apart from 400). The endpoint label is the route
            // pattern (/convolutions/{id}), never the raw path, so ids and scanners cannot multiply the series.
            options.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(registry));
        });
        // The exception handler clears the endpoint before it answers; put it back on the way out so refusals and
        // errors are counted under their route, not lumped with unmatched paths.
        app.Use(async (context, next) =>
        {
            var endpoint = context.GetEndpoint();
            try
            {
                await next(context);
            }
            finally
            {
                if (endpoint is not null && context.GetEndpoint() is null) context.SetEndpoint(endpoint);
            }
        });
        app.MapMetrics("/metrics", registry).WithTags("Operations").WithSummary("Prometheus metrics (text exposition format).");
        return app;
    }

    /// <summary>The method label of every request whose method is not one of RFC 9110's (and PATCH).</summary>
    public const string OtherMethod = "OTHER";

    /// <summary>The fixed label set: a standard method in canonical spelling, or <see cref="OtherMethod"/>.</summary>
    public static string MetricMethod(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get
        : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsPost(method) ? HttpMethods.Post
        : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete
        : HttpMethods.IsPatch(method) ? HttpMethods.Patch
        : HttpMethods.IsOptions(method) ? HttpMethods.Options
        : HttpMethods.IsTrace(method) ? HttpMethods.Trace
        : HttpMethods.IsConnect(method) ? HttpMethods.Connect
        : OtherMethod;
}
