using Npgsql;
using NpgsqlTypes;

namespace ConvService.Storage.Postgres;

/// <summary>
/// The service's own PostgreSQL tables (schema <c>convservice</c>) and the one <see cref="NpgsqlDataSource"/>
/// (connection pool) the array and job stores share. The schema is created on start and, if the database was
/// down then, on the first operation after it returns.
/// </summary>
/// <param name="dataSource">The stores' pool.</param>
/// <param name="logger">Log.</param>
/// <param name="otherPools">Pools of the same database used by others (Hangfire's): cleared too when a connection turns out broken.</param>
public sealed class PostgresDatabase(NpgsqlDataSource dataSource, ILogger<PostgresDatabase> logger, params NpgsqlDataSource[] otherPools)
{
    /// <summary>Schema of the service's tables.</summary>
    public const string Schema = "convservice";

    // Serializes schema creation across nodes: concurrent CREATE ... IF NOT EXISTS can still collide in the catalog.
    private const long SchemaLockKey = 0x636f6e7673657276; // "convserv"

    /// <summary>Idempotent DDL. Ids use the C collation so paging compares them the way the in-memory store does (ordinal).</summary>
    internal const string SchemaSql = $"""
        CREATE SCHEMA IF NOT EXISTS {Schema};
        CREATE TABLE IF NOT EXISTS {Schema}.arrays (
            id        text COLLATE "C" PRIMARY KEY,
            rows      integer     NOT NULL,
            cols      integer     NOT NULL,
            bytes     bigint      NOT NULL,
            sha256    text        NULL,
            checksum  text        NULL,
            data      bytea       NOT NULL,
            created   timestamptz NOT NULL DEFAULT now(),
            last_used timestamptz NOT NULL DEFAULT now()
        );
        -- One row per pin rather than a counter column: a kernel shared by thousands of jobs would otherwise be one row
        -- that every submission and completion must lock in turn. The foreign key makes a pin and the array's
        -- deletion exclude each other (the pin insert holds a key-share lock on the array row).
        CREATE TABLE IF NOT EXISTS {Schema}.array_pins (
            pin_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            array_id text COLLATE "C" NOT NULL REFERENCES {Schema}.arrays (id)
        );
        -- Results are no longer hashed with SHA-256 (their ids derive from the job id); the checksum column is new.
        -- Migrates a database an earlier version created. Only when needed: ALTER TABLE takes an exclusive lock on the
        -- table even when it changes nothing, and nodes starting in a live cluster deadlocked with pins taken meanwhile.
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '{Schema}' AND table_name = 'arrays'
                       AND column_name = 'sha256' AND is_nullable = 'NO') THEN
                ALTER TABLE {Schema}.arrays ALTER COLUMN sha256 DROP NOT NULL;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '{Schema}' AND table_name = 'arrays'
                           AND column_name = 'checksum') THEN
                ALTER TABLE {Schema}.arrays ADD COLUMN checksum text NULL;
            END IF;
        END
        $$;
        CREATE INDEX IF NOT EXISTS array_pins_array ON {Schema}.array_pins (array_id);
        -- The byte total the budget is checked against, in 16 stripes (by the id's first hex digit) so concurrent puts
        -- do not queue on one row; the total is their sum. Kept in step with arrays inside the same transactions.
        CREATE TABLE IF NOT EXISTS {Schema}.array_usage (
            stripe integer PRIMARY KEY CHECK (stripe BETWEEN 0 AND 15),
            bytes  bigint  NOT NULL
        );
        INSERT INTO {Schema}.array_usage (stripe, bytes) SELECT s, 0 FROM generate_series(0, 15) AS s ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS {Schema}.jobs (
            id              text COLLATE "C" PRIMARY KEY,
            status          text NOT NULL,
            benchmark_id    text NULL,
            result_array_id text COLLATE "C" NULL,
            record          jsonb NOT NULL,
            updated         timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS jobs_status_id ON {Schema}.jobs (status, id);
        CREATE INDEX IF NOT EXISTS jobs_active ON {Schema}.jobs (id) WHERE status IN ('queued', 'running');
        CREATE INDEX IF NOT EXISTS jobs_result ON {Schema}.jobs (result_array_id) WHERE result_array_id IS NOT NULL;
        -- FITS headers uploaded with arrays (IArrayHeaderStore): they go when their array goes.
        CREATE TABLE IF NOT EXISTS {Schema}.array_headers (
            array_id text COLLATE "C" PRIMARY KEY REFERENCES {Schema}.arrays (id) ON DELETE CASCADE,
            header   text NOT NULL
        );
        -- Benchmark reports (PostgresBenchmarkStore): any node runs a benchmark and every node reads its report.
        CREATE TABLE IF NOT EXISTS {Schema}.benchmarks (
            id      text COLLATE "C" PRIMARY KEY,
            owner   text NULL,
            report  jsonb NOT NULL,
            updated timestamptz NOT NULL DEFAULT now()
        );
        -- No query looks jobs up by benchmark (a run tracks its own job ids), so an index made by an earlier version goes.
        DROP INDEX IF EXISTS {Schema}.jobs_benchmark;
        """;

    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;

    /// <summary>The shared pool.</summary>
    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>Creates the schema once per process (a no-op after the first success).</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_schemaReady) return;
        await _schemaGate.WaitAsync(cancellationToken);
        try
        {
            if (_schemaReady) return;
            await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue("key", SchemaLockKey);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var ddl = new NpgsqlCommand(SchemaSql, connection, transaction))
                await ddl.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            _schemaReady = true;
            logger.LogInformation("PostgreSQL schema {Schema} is ready.", Schema);
        }
        finally
        {
            _schemaGate.Release();
        }
    }

    /// <summary>
    /// Opens a connection (creating the schema first if needed) and runs <paramref name="operation"/>. When the
    /// connection turns out to be broken (the database restarted since it was pooled), the pool's idle connections
    /// are dropped so the next request reconnects, and an operation that is safe to repeat is tried once more.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> operation, bool safeToRetry, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await EnsureSchemaAsync(cancellationToken);
                await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
                return await operation(connection, cancellationToken);
            }
            catch (Exception e) when (PostgresErrors.IsConnectionFailure(e))
            {
                ClearPools();
                if (!safeToRetry || attempt >= 2 || cancellationToken.IsCancellationRequested) throw;
                logger.LogInformation("Retrying a PostgreSQL operation once on a fresh connection: {Error}", e.Message);
            }
        }
    }

    /// <summary>
    /// Atomically replaces the jsonb record of row <paramref name="id"/> with <paramref name="update"/>(current): reads
    /// it with <paramref name="selectSql"/> (which must lock it, <c>FOR UPDATE</c>), applies the function and writes the
    /// result with <paramref name="writeSql"/> in one transaction, so two nodes racing on one row apply their changes one
    /// after the other. Repeated only when the connection failed before the commit was sent: then nothing was applied
    /// and the function runs again on a fresh read. After that point the outcome is unknown and the error surfaces.
    /// The job and benchmark stores update through here. When <paramref name="mayBeLost"/>(current, next) holds, the commit
    /// does not wait for the WAL flush (a later synchronous commit, or PostgreSQL's WAL writer within 200 ms, flushes it).
    /// </summary>
    internal async Task<(T? Record, bool Changed)> UpdateRecordAsync<T>(string what, string id, string selectSql, string writeSql,
        Func<string, T> deserialize, Func<T, T?> update, Func<T, string> idOf, Action<NpgsqlCommand, T> addColumns, CancellationToken cancellationToken,
        Func<T, T, bool>? mayBeLost = null)
        where T : class
    {
        bool commitSent = false;
        try
        {
            return await RunAsync(async (connection, ct) =>
            {
                commitSent = false;
                await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
                T current;
                await using (var select = new NpgsqlCommand(selectSql, connection, transaction))
                {
                    select.Parameters.AddWithValue("id", id);
                    if (await select.ExecuteScalarAsync(ct) is not string json)
                    {
                        await transaction.CommitAsync(ct);
                        return ((T?)null, false);
                    }
                    current = deserialize(json);
                }
                var next = update(current);
                if (next is null)
                {
                    await transaction.CommitAsync(ct);
                    return (current, false);
                }
                if (idOf(next) != id) throw new InvalidOperationException($"An update of {what} {id} returned {what} {idOf(next)}.");
                await using (var write = new NpgsqlCommand(writeSql, connection, transaction))
                {
                    addColumns(write, next);
                    await write.ExecuteNonQueryAsync(ct);
                }
                if (mayBeLost?.Invoke(current, next) == true)
                {
                    // A change whose loss in a crash only means repeating work: its commit does not wait for the flush.
                    await using var relaxed = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection, transaction);
                    await relaxed.ExecuteNonQueryAsync(ct);
                }
                commitSent = true;
                await transaction.CommitAsync(ct);
                return (next, true);
            }, safeToRetry: true, cancellationToken);
        }
        catch (Exception e) when (commitSent && PostgresErrors.IsConnectionFailure(e))
        {
            throw new InvalidOperationException($"The connection to PostgreSQL was lost while committing an update of {what} {id}; it may or may not have been applied.", e);
        }
    }

    /// <summary>
    /// One page of jsonb records, newest first: runs <paramref name="selectSql"/> (its first column the record as text)
    /// with the paging parameters <c>@after</c> and <c>@owner</c> (null: any) and <c>@limit</c>, and whatever
    /// <paramref name="addParameters"/> adds. The job and benchmark stores list through here.
    /// </summary>
    internal async Task<IReadOnlyList<T>> ListRecordsAsync<T>(string selectSql, string? after, string? owner, int limit, Func<string, T> deserialize,
        CancellationToken cancellationToken, Action<NpgsqlCommand>? addParameters = null) =>
        await RunAsync<IReadOnlyList<T>>(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand(selectSql, connection);
            command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)after ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter("owner", NpgsqlDbType.Text) { Value = (object?)owner ?? DBNull.Value });
            command.Parameters.AddWithValue("limit", limit);
            addParameters?.Invoke(command);
            var page = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) page.Add(deserialize(reader.GetString(0)));
            return page;
        }, safeToRetry: true, cancellationToken);

    /// <summary>Deletes row <paramref name="id"/> of <paramref name="table"/> (one of our schema's); true when it was there.</summary>
    internal Task<bool> DeleteRowAsync(string table, string id, CancellationToken cancellationToken) =>
        RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"DELETE FROM {Schema}.{table} WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, safeToRetry: false, cancellationToken);

    /// <summary>
    /// Drops idle pooled connections. After the database restarts every pooled connection is dead but looks open; each
    /// would fail one request. One failure here means the others are dead too, Hangfire's included.
    /// </summary>
    public void ClearPools()
    {
        DataSource.Clear();
        foreach (var pool in otherPools) pool.Clear();
    }

    /// <summary>True when a trivial query answers within <paramref name="timeout"/>.</summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            return await RunAsync(async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                return await command.ExecuteScalarAsync(ct) is 1;
            }, safeToRetry: true, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // our own timeout: the database did not answer in time
        }
    }
}
