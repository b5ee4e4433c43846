using Npgsql;

namespace ConvService.Storage.Postgres;

/// <summary>
/// FITS headers in <c>convservice.array_headers</c>, shared by every node; a header goes with its array
/// (ON DELETE CASCADE), so eviction and deletion need no extra bookkeeping.
/// </summary>
public sealed class PostgresArrayHeaderStore(PostgresDatabase database) : IArrayHeaderStore
{
    private const string S = PostgresDatabase.Schema;

    /// <inheritdoc />
    public async ValueTask PutAsync(string arrayId, string headerText, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand(
                $"INSERT INTO {S}.array_headers (array_id, header) SELECT @id, @header WHERE EXISTS (SELECT 1 FROM {S}.arrays WHERE id = @id) " +
                "ON CONFLICT (array_id) DO UPDATE SET header = EXCLUDED.header", connection);
            command.Parameters.AddWithValue("id", arrayId);
            command.Parameters.AddWithValue("header", headerText);
            return await command.ExecuteNonQueryAsync(ct);
        }, safeToRetry: true, cancellationToken); // an upsert: repeating it changes nothing

    /// <inheritdoc />
    public async ValueTask<string?> TryGetAsync(string arrayId, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT header FROM {S}.array_headers WHERE array_id = @id", connection);
            command.Parameters.AddWithValue("id", arrayId);
            return await command.ExecuteScalarAsync(ct) as string;
        }, safeToRetry: true, cancellationToken);
}
