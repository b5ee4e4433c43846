using System.ComponentModel.DataAnnotations;

namespace ConvService.Storage.Postgres;

/// <summary>
/// The <c>ConvService:PostgreSql</c> section: how Hangfire's PostgreSQL queue behaves when
/// <c>ConvService:Storage</c> is <c>PostgreSql</c>. The connection string is <c>ConnectionStrings:ConvService</c>.
/// </summary>
public sealed class PostgresStorageSettings
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "ConvService:PostgreSql";

    /// <summary>Name of the connection string (<c>ConnectionStrings:ConvService</c>).</summary>
    public const string ConnectionStringName = "ConvService";

    /// <summary>
    /// Seconds after which a fetched job whose node stopped sending keep-alives is handed to another worker.
    /// Running jobs are kept invisible by a keep-alive every fifth of this (sliding invisibility), so it bounds
    /// how long a killed node's jobs wait, not how long a job may run.
    /// </summary>
    [ConvService.Options.ConfigRange(2, 3600, ErrorMessage = "ConvService:PostgreSql:InvisibilityTimeoutSeconds must be between {1} and {2}.")]
    public double InvisibilityTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// How often an idle worker looks for jobs enqueued by other nodes (jobs enqueued on the same node wake it at once).
    /// Hangfire.PostgreSql's default of 15 s is far too slow for small jobs.
    /// </summary>
    [ConvService.Options.ConfigRange(0.05, 60, ErrorMessage = "ConvService:PostgreSql:QueuePollIntervalSeconds must be between {1} and {2}.")]
    public double QueuePollIntervalSeconds { get; set; } = 1;

    /// <summary>Wake idle workers on every node through LISTEN/NOTIFY when a job is enqueued (one extra connection per waiting worker).</summary>
    public bool EnableLongPolling { get; set; }

    /// <summary>
    /// Seconds after which a Hangfire lock left behind by a dead node is broken. Hangfire holds its locks for
    /// milliseconds (state changes), never for a job's run, so a short timeout only bounds recovery.
    /// </summary>
    [ConvService.Options.ConfigRange(1, 3600, ErrorMessage = "ConvService:PostgreSql:DistributedLockTimeoutSeconds must be between {1} and {2}.")]
    public double DistributedLockTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How often (seconds) a node looks for job records left <c>queued</c> or <c>running</c> with no live Hangfire job
    /// (<c>Jobs/OrphanedJobReconciler</c>), and how long such a record must have been unchanged to count. A database
    /// outage longer than Hangfire's state-change retries (~45 s) leaves them behind.
    /// </summary>
    [Range(1, 3600)]
    public double OrphanedJobCheckSeconds { get; set; } = 15;

    /// <summary>
    /// Whether Hangfire's own commits wait for the WAL flush. Off (the default): they don't, which takes Hangfire's ~10
    /// flushes per job (fetch, locks, state changes, queue removal) off the disk. Nothing acknowledged is lost: the
    /// submitter's last step before the 202, recording the Hangfire id, is a synchronous commit of ours, and PostgreSQL
    /// flushes its WAL in order, so Hangfire's enqueue (written before it) is durable with it. A crash loses at most a
    /// worker's latest state changes, after which the job runs again and finds its record finished (or re-runs it).
    /// </summary>
    public bool HangfireSynchronousCommit { get; set; }

    /// <summary>Schema of Hangfire's own tables (ours live in <c>convservice</c>).</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "ConvService:PostgreSql:HangfireSchema must be a lower-case SQL identifier.")]
    public string HangfireSchema { get; set; } = "hangfire";
}
