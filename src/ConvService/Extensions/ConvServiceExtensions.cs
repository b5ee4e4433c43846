using System.Text.Json.Serialization;
using ConvService.Apis;
using ConvService.Benchmarks;
using ConvService.Http;
using ConvService.Jobs;
using ConvService.Options;
using ConvService.Storage;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Options;

namespace ConvService.Extensions;

/// <summary>Service registration and middleware for the ConvService host.</summary>
public static class ConvServiceExtensions
{
    /// <summary>Registers options, storage, Hangfire, the job services, problem details and Swagger.</summary>
    public static WebApplicationBuilder AddConvService(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ConvServiceOptions>().BindConfiguration(ConvServiceOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConvServiceOptions>, ConvServiceOptionsValidator>();
        var options = builder.Configuration.GetSection(ConvServiceOptions.SectionName).Get<ConvServiceOptions>() ?? new ConvServiceOptions();

        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = FrameworkProblemDetail.Fill);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddSingleton<RequestJsonOptions>();
        // Binding failures (e.g. ?wait=abc) become exceptions so they get the same problem+json as every other refusal.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
            // A result's min/max/mean can be NaN or ±∞, which JSON cannot carry: they are written as null.
            json.SerializerOptions.Converters.Add(new FiniteDoubleConverter());
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<JobSignals>();
        services.AddSingleton<UploadBudget>();
        services.AddSingleton<GeneratedArrayIds>();
        services.AddSingleton<INodeDirectory, HangfireNodeDirectory>();
        services.AddSingleton<ConvolutionSubmitter>();
        services.AddSingleton<ConvolutionBatchSubmitter>();
        services.AddSingleton<ConvolutionJobLifecycle>();
        services.AddTransient<ConvolutionJob>();
        services.AddSingleton<IBenchmarkStore, InMemoryBenchmarkStore>();
        services.AddSingleton<BenchmarkPlanner>();
        services.AddSingleton<BenchmarkRunner>();
        services.AddSingleton<BenchmarkProgressBoard>();
        services.AddSingleton(_ => new BenchmarkThreads(options.EffectiveWorkers));
        // Opened at registration: whether this node serves the gpu queue is decided before the Hangfire servers start.
        var gpu = new GpuRunner(options.Gpu, LoggerFactory.Create(logging => logging.AddConsole()).CreateLogger<GpuRunner>());
        services.AddSingleton(gpu);
        services.AddSingleton<BenchmarkService>();
        services.AddTransient<BenchmarkJob>();

        services.AddConvServiceStorage(options, builder.Configuration); // before AddHangfire: see StorageExtensions
        // Before AddHangfire, which only adds its own IJobFilterProvider when none is registered.
        services.AddSingleton<JobRecordStateFilter>();
        services.AddSingleton<StorageOutageRetryFilter>();
        services.AddSingleton<IJobRecordFinisher, ConvolutionJobFinisher>();
        services.AddSingleton<IJobRecordFinisher, BenchmarkJobFinisher>();
        services.AddSingleton<IJobFilterProvider, HostJobFilterProvider>();
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        // One Hangfire server per queue, named "{node}:{queue}" (NodesApi reads the node back from it).
        void AddServer(string queue, int workers) => services.AddHangfireServer((_, server) =>
        {
            server.ServerName = $"{options.EffectiveNodeName}:{queue}";
            server.WorkerCount = workers;
            server.Queues = [queue];
            // How soon a job deleted on another node notices; the default is 5 s.
            server.CancellationCheckInterval = TimeSpan.FromSeconds(1);
            // Jobs run on the worker's own thread. Hangfire's default runs async jobs on the .NET thread pool, whose two
            // threads (on 2 cores) the convolutions then held while every other continuation queued behind them.
            server.TaskScheduler = null;
        });
        AddServer(QueueNames.Convolutions, options.EffectiveWorkers);
        // One worker: the device runs one launch at a time, and a second worker would only queue behind it.
        if (gpu.IsAvailable) AddServer(QueueNames.Gpu, 1);
        // Benchmarks get a server of their own with one worker: they never queue behind small jobs, and run one at a time.
        AddServer(QueueNames.Benchmarks, 1);

        // Readiness (GET /health/ready, Apis/HealthApi.cs) runs the checks tagged "ready".
        services.AddHealthChecks()
            .AddCheck<ArrayStoreHealthCheck>(ArrayStoreHealthCheck.Name, tags: [HealthApi.ReadyTag])
            .AddCheck<HangfireHealthCheck>(HangfireHealthCheck.Name, tags: [HealthApi.ReadyTag]);

        services.AddConvServiceSwagger();
        builder.AddConvServiceMetrics(); // /metrics: Extensions/MetricsExtensions.cs
        builder.AddConvServiceSecurity(); // API keys, rate limits: Extensions/SecurityExtensions.cs
        builder.AddConvServiceUi(); // the web UI at /: Extensions/UiExtensions.cs
        return builder;
    }

    /// <summary>Adds the middleware pipeline and the dashboard.</summary>
    public static WebApplication UseConvService(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ConvServiceOptions>>().Value;
        app.UseConvServiceMetrics(); // outside the exception handler, so failed requests are counted as the 500 they become
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestSizeLimit(options.Limits.MaxRequestBytes);
        app.UseConvServiceSecurity(); // rate limits, API keys, remote dashboard gate: before the dashboard below
        app.UseConvServiceUi();
        app.UseConvServiceSwagger();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            DashboardTitle = "ConvService jobs",
            Authorization = options.DashboardAllowRemote ? [new AllowAllDashboardAuthorization()] : [new Hangfire.Dashboard.LocalRequestsOnlyAuthorizationFilter()],
            // Read-only unless configured, and always when remote: nobody deletes or requeues jobs from outside the machine.
            // DashboardWriteGuard refuses the writes before they get here (Hangfire's own check answers with a bare status).
            IsReadOnlyFunc = _ => DashboardWriteGuard.IsReadOnly(options),
            // A read-only dashboard's pages carry no antiforgery token, yet poll POST /stats: Hangfire would refuse that
            // poll. Writes are refused by DashboardWriteGuard there anyway; a writable dashboard checks the token (twice).
            IgnoreAntiforgeryToken = DashboardWriteGuard.IsReadOnly(options),
        });
        return app;
    }
}
