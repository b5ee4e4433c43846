using System.Text.Json;
using System.Text.Json.Serialization;
using ConvService.Model;
using ConvService.Options;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace ConvService.Storage.Postgres;

/// <summary>
/// <see cref="IJobStore"/> in PostgreSQL, shared by every node: one row per job holding the immutable record as
/// jsonb, with the columns that queries filter on (status, benchmark id, result array id) beside it.
/// <see cref="UpdateAsync"/> reads the row <c>FOR UPDATE</c>, applies the caller's function and writes the result
/// in one transaction, so two nodes racing on one job (a re-delivered job, a cancel during a run) apply their
/// changes one after the other, each to the other's result — never both to the same old record.
/// </summary>
public sealed class PostgresJobStore(PostgresDatabase database, IOptions<ConvServiceOptions> options) : IJobStore, IJobBatchStore
{
    private const string S = PostgresDatabase.Schema;

    /// <summary>How records are written to jsonb: camelCase, enums as words, NaN and infinities allowed (result summaries may hold them).</summary>
    public static readonly JsonSerializerOptions RecordJson = CreateRecordJson();

    // Read-only once made: a static shared by every host in the process must not be changeable by any of them.
    private static JsonSerializerOptions CreateRecordJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        };
        json.MakeReadOnly(populateMissingResolver: true);
        return json;
    }

    private readonly int _maxRetained = options.Value.Limits.MaxRetainedJobs;
    private int _createsSinceTrim;

    /// <inheritdoc />
    public async ValueTask CreateAsync(ConvolutionJobRecord job, CancellationToken cancellationToken = default)
    {
        // Not repeated on a lost connection: a create that did commit would then fail as a duplicate.
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand(
                $"INSERT INTO {S}.jobs (id, status, benchmark_id, result_array_id, record) VALUES (@id, @status, @benchmark, @result, @record)", connection);
            AddColumns(command, job);
            try
            {
                return await command.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new InvalidOperationException($"Job {job.Id} already exists.", e);
            }
        }, safeToRetry: false, cancellationToken);

        // Forget the oldest finished jobs beyond the limit now and then, in batches, like the in-memory store.
        int batch = Math.Clamp(_maxRetained / 10, 1, 1000);
        if (Interlocked.Increment(ref _createsSinceTrim) >= batch)
        {
            Interlocked.Exchange(ref _createsSinceTrim, 0);
            await TrimOldestFinishedAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask CreateAllAsync(IReadOnlyList<ConvolutionJobRecord> jobs, CancellationToken cancellationToken = default)
    {
        if (jobs.Count == 0) return;
        // Not repeated on a lost connection, as CreateAsync: a batch that did commit would then fail as duplicates.
        await database.RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var job in jobs)
            {
                var command = new NpgsqlBatchCommand(
                    $"INSERT INTO {S}.jobs (id, status, benchmark_id, result_array_id, record) VALUES ($1, $2, $3, $4, $5)");
                command.Parameters.Add(new NpgsqlParameter { Value = job.Id });
                command.Parameters.Add(new NpgsqlParameter { Value = StatusWord(job.Status) });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)job.BenchmarkId ?? DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)job.Result?.ArrayId ?? DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(job, RecordJson) });
                batch.BatchCommands.Add(command);
            }
            try
            {
                await batch.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new InvalidOperationException("A job of the batch already exists.", e);
            }
            await transaction.CommitAsync(ct);
            return jobs.Count;
        }, safeToRetry: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask SetHangfireIdsAsync(IReadOnlyList<(string Id, string HangfireJobId)> ids, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0) return;
        // One statement, one synchronous commit: it is also the flush that makes Hangfire's (asynchronous) enqueues durable.
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"""
                UPDATE {S}.jobs j SET record = jsonb_set(j.record, ARRAY['hangfireJobId'], to_jsonb(v.hangfire_id)), updated = now()
                FROM unnest(@ids::text[], @hangfire::text[]) AS v(id, hangfire_id) WHERE j.id = v.id
                """, connection);
            command.Parameters.AddWithValue("ids", ids.Select(i => i.Id).ToArray());
            command.Parameters.AddWithValue("hangfire", ids.Select(i => i.HangfireJobId).ToArray());
            return await command.ExecuteNonQueryAsync(ct);
        }, safeToRetry: true, cancellationToken);
    }

    /// <summary>Deletes finished jobs older than the newest <see cref="LimitsOptions.MaxRetainedJobs"/> jobs.</summary>
    public Task<int> TrimOldestFinishedAsync(CancellationToken cancellationToken = default) =>
        database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"""
                DELETE FROM {S}.jobs
                WHERE status IN ('succeeded', 'failed', 'cancelled')
                AND id < (SELECT id FROM {S}.jobs ORDER BY id DESC OFFSET @keep - 1 LIMIT 1)
                """, connection);
            command.Parameters.AddWithValue("keep", _maxRetained);
            return await command.ExecuteNonQueryAsync(ct);
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<ConvolutionJobRecord?> TryGetAsync(string id, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT record::text FROM {S}.jobs WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            return await command.ExecuteScalarAsync(ct) is string json ? Deserialize(json) : null;
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<(ConvolutionJobRecord? Record, bool Changed)> UpdateAsync(
        string id, Func<ConvolutionJobRecord, ConvolutionJobRecord?> update, CancellationToken cancellationToken = default) =>
        await database.UpdateRecordAsync("job", id, $"SELECT record::text FROM {S}.jobs WHERE id = @id FOR UPDATE",
            $"UPDATE {S}.jobs SET status = @status, benchmark_id = @benchmark, result_array_id = @result, record = @record, updated = now() WHERE id = @id",
            Deserialize, update, static job => job.Id, AddColumns, cancellationToken,
            // A worker's start (queued → running): lost in a crash, the job is still queued, and Hangfire runs it again anyway.
            mayBeLost: static (current, next) => current.Status == JobStatus.Queued && next.Status == JobStatus.Running);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ConvolutionJobRecord>> ListAsync(JobStatus? status, int limit, string? after, string? owner, CancellationToken cancellationToken = default) =>
        await database.ListRecordsAsync($"""
            SELECT record::text FROM {S}.jobs
            WHERE benchmark_id IS NULL AND (@status::text IS NULL OR status = @status::text) AND (@after::text IS NULL OR id < @after::text)
            AND (@owner::text IS NULL OR record->>'owner' = @owner::text)
            ORDER BY id DESC LIMIT @limit
            """, after, owner, limit, Deserialize, cancellationToken,
            command => command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = status is { } s ? StatusWord(s) : DBNull.Value }));

    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        await database.DeleteRowAsync("jobs", id, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> IsResultReferencedAsync(string arrayId, string exceptJobId, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand(
                $"SELECT EXISTS (SELECT 1 FROM {S}.jobs WHERE result_array_id = @array AND id <> @except)", connection);
            command.Parameters.AddWithValue("array", arrayId);
            command.Parameters.AddWithValue("except", exceptJobId);
            return (bool)(await command.ExecuteScalarAsync(ct))!;
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<int> CountActiveAsync(CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM {S}.jobs WHERE status IN ('queued', 'running')", connection);
            return (int)(long)(await command.ExecuteScalarAsync(ct))!;
        }, safeToRetry: true, cancellationToken);

    /// <summary>The word stored in the status column.</summary>
    public static string StatusWord(JobStatus status) => JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    private static void AddColumns(NpgsqlCommand command, ConvolutionJobRecord job)
    {
        command.Parameters.AddWithValue("id", job.Id);
        command.Parameters.AddWithValue("status", StatusWord(job.Status));
        command.Parameters.Add(new NpgsqlParameter("benchmark", NpgsqlDbType.Text) { Value = (object?)job.BenchmarkId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("result", NpgsqlDbType.Text) { Value = (object?)job.Result?.ArrayId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("record", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(job, RecordJson) });
    }

    private static ConvolutionJobRecord Deserialize(string json) =>
        JsonSerializer.Deserialize<ConvolutionJobRecord>(json, RecordJson)
        ?? throw new InvalidDataException("A job row holds a null record.");
}
