using System.Text.Json;
using ConvService.Model;
using Npgsql;
using NpgsqlTypes;

namespace ConvService.Storage.Postgres;

/// <summary>
/// <see cref="IBenchmarkStore"/> in PostgreSQL, beside <see cref="PostgresJobStore"/>: every node serves the
/// <c>benchmarks</c> queue, so the report must be where any node can run it and every node can read it, and it must
/// survive restarts. One row per benchmark holding the immutable report as jsonb, with its owner beside it for the list;
/// updates read the row <c>FOR UPDATE</c> and write it back in one transaction, as the job store does. Live progress is
/// written into the row by the running node (see <c>BenchmarkJob</c>), so any node shows it.
/// </summary>
public sealed class PostgresBenchmarkStore(PostgresDatabase database) : IBenchmarkStore
{
    private const string S = PostgresDatabase.Schema;

    /// <inheritdoc />
    public async ValueTask CreateAsync(BenchmarkReport report, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"INSERT INTO {S}.benchmarks (id, owner, report) VALUES (@id, @owner, @report)", connection);
            AddColumns(command, report);
            try
            {
                return await command.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new InvalidOperationException($"Benchmark {report.Id} already exists.", e);
            }
        }, safeToRetry: false, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<BenchmarkReport?> TryGetAsync(string id, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT report::text FROM {S}.benchmarks WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            return await command.ExecuteScalarAsync(ct) is string json ? Deserialize(json) : null;
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<(BenchmarkReport? Report, bool Changed)> UpdateAsync(string id, Func<BenchmarkReport, BenchmarkReport?> update,
        CancellationToken cancellationToken = default) =>
        await database.UpdateRecordAsync("benchmark", id, $"SELECT report::text FROM {S}.benchmarks WHERE id = @id FOR UPDATE",
            $"UPDATE {S}.benchmarks SET owner = @owner, report = @report, updated = now() WHERE id = @id",
            Deserialize, update, static report => report.Id, AddColumns, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<BenchmarkReport>> ListAsync(int limit, string? after, string? owner, CancellationToken cancellationToken = default) =>
        await database.ListRecordsAsync($"""
            SELECT report::text FROM {S}.benchmarks
            WHERE (@after::text IS NULL OR id < @after::text) AND (@owner::text IS NULL OR owner = @owner::text)
            ORDER BY id DESC LIMIT @limit
            """, after, owner, limit, Deserialize, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        await database.DeleteRowAsync("benchmarks", id, cancellationToken);

    private static void AddColumns(NpgsqlCommand command, BenchmarkReport report)
    {
        command.Parameters.AddWithValue("id", report.Id);
        command.Parameters.Add(new NpgsqlParameter("owner", NpgsqlDbType.Text) { Value = (object?)report.Owner ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("report", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(report, PostgresJobStore.RecordJson) });
    }

    private static BenchmarkReport Deserialize(string json) =>
        JsonSerializer.Deserialize<BenchmarkReport>(json, PostgresJobStore.RecordJson)
        ?? throw new InvalidDataException("A benchmark row holds a null report.");
}
