using ConvService.Options;
using ConvService.Jobs;
using ConvService.Storage;
using ConvService.Storage.Postgres;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Npgsql;

namespace ConvService.Extensions;

/// <summary>Registers the array store, the job store and Hangfire's job storage for <c>ConvService:Storage</c>.</summary>
public static class StorageExtensions
{
    private const string HangfirePool = "hangfire";

    /// <summary>
    /// InMemory: everything in this process. PostgreSql: arrays, job records and Hangfire's queue in the database named by
    /// <c>ConnectionStrings:ConvService</c>, shared by every node that points at it.
    /// </summary>
    /// <remarks>
    /// The <see cref="JobStorage"/> is one instance per host, registered before AddHangfire so Hangfire's own registration
    /// (which would read the process-wide JobStorage.Current) is skipped: several hosts in one process never share a queue.
    /// Hangfire's log provider is process-wide too: resolving IGlobalConfiguration first points it at this host's loggers
    /// before the storage asks for one.
    /// </remarks>
    public static IServiceCollection AddConvServiceStorage(this IServiceCollection services, ConvServiceOptions options, IConfiguration configuration)
    {
        services.AddSingleton<ResultBufferPool>();
        if (options.Storage == StorageKind.PostgreSql) return services.AddPostgresStorage(options, configuration);

        services.AddSingleton<IStorageFaults, InMemoryStorageFaults>();
        services.AddSingleton<IArrayStore, InMemoryArrayStore>();
        services.AddSingleton<IArrayHeaderStore, InMemoryArrayHeaderStore>();
        services.AddSingleton<IJobStore, InMemoryJobStore>();
        services.AddSingleton<JobStorage>(provider =>
        {
            provider.GetRequiredService<IGlobalConfiguration>();
            return new InMemoryStorage(new InMemoryStorageOptions
            {
                // Finished Hangfire jobs are bookkeeping only (our job store is the record); keep memory flat under load.
                MaxExpirationTime = TimeSpan.FromMinutes(30),
            });
        });
        return services;
    }

    private static IServiceCollection AddPostgresStorage(this IServiceCollection services, ConvServiceOptions options, IConfiguration configuration)
    {
        string connectionString = configuration.GetConnectionString(PostgresStorageSettings.ConnectionStringName) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                "ConvService:Storage is PostgreSql but ConnectionStrings:ConvService is not set. Set it (environment variable " +
                "ConnectionStrings__ConvService), e.g. Host=127.0.0.1;Port=5432;Database=convservice;Username=...;Password=...");
        var settings = configuration.GetSection(PostgresStorageSettings.SectionName).Get<PostgresStorageSettings>() ?? new PostgresStorageSettings();
        if (new PostgresStorageSettingsValidator().Validate(null, settings) is { Failed: true } invalid)
            throw new InvalidOperationException("Invalid settings: " + invalid.FailureMessage);

        NpgsqlConnectionStringBuilder Named(string role) => new(connectionString) { ApplicationName = $"convservice:{role}:{options.EffectiveNodeName}" };

        // Two pools: the stores' and Hangfire's (its workers hold connections while they poll; requests must not wait behind them).
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(Named("stores").ConnectionString).Build());
        // Hangfire's commits need not wait for the disk: see PostgresStorageSettings.HangfireSynchronousCommit.
        var hangfireConnection = Named("hangfire");
        if (!settings.HangfireSynchronousCommit)
            hangfireConnection.Options = ((hangfireConnection.Options ?? "") + " -c synchronous_commit=off").Trim();
        services.AddKeyedSingleton(HangfirePool, (_, _) => new NpgsqlDataSourceBuilder(hangfireConnection.ConnectionString).Build());
        services.AddSingleton(provider => new PostgresDatabase(
            provider.GetRequiredService<NpgsqlDataSource>(), provider.GetRequiredService<ILogger<PostgresDatabase>>(),
            provider.GetRequiredKeyedService<NpgsqlDataSource>(HangfirePool)));
        services.AddSingleton<IStorageFaults, PostgresStorageFaults>();
        services.AddSingleton<IArrayStore, PostgresArrayStore>();
        services.AddSingleton<IArrayHeaderStore, PostgresArrayHeaderStore>();
        services.AddSingleton<IJobStore, PostgresJobStore>();
        services.AddSingleton<IBenchmarkStore, PostgresBenchmarkStore>(); // replaces the in-memory one: every node serves the benchmarks queue
        services.AddHostedService<PostgresSchemaInitializer>();
        services.AddSingleton(settings);
        services.AddHostedService<AbandonedJobRequeuer>();
        services.AddSingleton<IOrphanedJobSource, PostgresOrphanedJobs>();
        services.AddSingleton<OrphanedJobReconciler>();
        services.AddHostedService(provider => provider.GetRequiredService<OrphanedJobReconciler>());
        services.AddSingleton<JobStorage>(provider =>
        {
            provider.GetRequiredService<IGlobalConfiguration>();
            var storageOptions = new PostgreSqlStorageOptions
            {
                SchemaName = settings.HangfireSchema,
                PrepareSchemaIfNecessary = true,
                // Sliding: a running job's row is refreshed every InvisibilityTimeout/5, so a long job is never handed to a
                // second worker while its node lives, and a dead node's jobs return to the queue InvisibilityTimeout later.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromSeconds(settings.InvisibilityTimeoutSeconds),
                QueuePollInterval = TimeSpan.FromSeconds(settings.QueuePollIntervalSeconds),
                EnableLongPolling = settings.EnableLongPolling,
                DistributedLockTimeout = TimeSpan.FromSeconds(settings.DistributedLockTimeoutSeconds),
                // A database that is down at start must not hold the host up: Hangfire tries twice, then initializes on first use.
                StartupConnectionMaxRetries = 1,
                AllowDegradedModeWithoutStorage = true,
            };
            return new PostgreSqlStorage(new DataSourceConnectionFactory(provider.GetRequiredKeyedService<NpgsqlDataSource>(HangfirePool)), storageOptions);
        });
        return services;
    }
}
