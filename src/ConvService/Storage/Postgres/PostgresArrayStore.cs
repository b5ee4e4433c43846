using System.Buffers;
using System.Data;
using System.Runtime.InteropServices;
using ConvService.Core.Arrays;
using ConvService.Options;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace ConvService.Storage.Postgres;

/// <summary>
/// <see cref="IArrayStore"/> in PostgreSQL, shared by every node: one row per content id with the little-endian
/// float64 data as bytea. Writes are idempotent (<c>INSERT ... ON CONFLICT DO NOTHING</c>: the same content has the
/// same id, so two nodes storing one result store it once). Pins are a counter column. The byte budget
/// (<see cref="LimitsOptions.ArrayStoreBytes"/>, for all nodes together) is enforced in SQL by evicting the least
/// recently used unpinned rows in the same transaction that adds a row.
/// </summary>
/// <remarks>
/// Lock order, so that no two transactions wait on each other: a put locks only its own new (invisible) row and
/// then the usage row; delete and eviction lock the usage row first and then existing rows; pins lock one row.
/// </remarks>
public sealed class PostgresArrayStore(PostgresDatabase database, IOptions<ConvServiceOptions> options) : IArrayStore
{
    private const string S = PostgresDatabase.Schema;
    // PostgreSQL refuses a single field over 1 GB.
    private const long MaxFieldBytes = (1L << 30) - 1024;
    private readonly long _budget = options.Value.Limits.ArrayStoreBytes;

    /// <inheritdoc />
    public async ValueTask<StoredArrayInfo> PutAsync(Array2D array, CancellationToken cancellationToken = default)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Stored arrays are little-endian float64.");
        string id = ArrayId.Compute(array);
        long bytes = array.Length * sizeof(double);
        var info = StoredArrayInfo.Of(id, array);
        // Already stored: touch it and skip sending the data at all.
        if (await TouchAsync(id, cancellationToken)) return info;
        if (bytes > _budget)
            throw new ArrayStoreFullException(
                $"The array needs {bytes:N0} bytes but the whole array store holds {_budget:N0} (ConvService:Limits:ArrayStoreBytes). " +
                "Send a smaller array or raise the limit.", tooLargeEver: true);
        if (bytes > MaxFieldBytes)
            throw new ArrayStoreFullException(
                $"The array needs {bytes:N0} bytes; PostgreSQL stores at most 1 GB in one value. Send a smaller array.", tooLargeEver: true);

        // Safe to retry as a whole: the transaction either committed the row or nothing, and a repeat finds it stored.
        await database.RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            await using (var insert = new NpgsqlCommand(
                $"INSERT INTO {S}.arrays (id, rows, cols, bytes, data) VALUES (@id, @rows, @cols, @bytes, @data) ON CONFLICT (id) DO NOTHING",
                connection, transaction))
            {
                insert.Parameters.AddWithValue("id", id);
                insert.Parameters.AddWithValue("rows", array.Rows);
                insert.Parameters.AddWithValue("cols", array.Cols);
                insert.Parameters.AddWithValue("bytes", bytes);
                insert.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("data", NpgsqlDbType.Bytea) { TypedValue = AsBytes(array.Data) });
                if (await insert.ExecuteNonQueryAsync(ct) == 0)
                {
                    // Another node stored the same content first (we waited on its row): nothing to add.
                    await transaction.CommitAsync(ct);
                    return true;
                }
            }

            long total;
            await using (var add = new NpgsqlCommand($"UPDATE {S}.array_usage SET bytes = bytes + @bytes WHERE id = 1 RETURNING bytes", connection, transaction))
            {
                add.Parameters.AddWithValue("bytes", bytes);
                total = (long)(await add.ExecuteScalarAsync(ct))!;
            }
            if (total > _budget)
            {
                long freed = await EvictAsync(connection, transaction, id, total - _budget, ct);
                if (total - freed > _budget)
                {
                    await transaction.RollbackAsync(ct);
                    throw new ArrayStoreFullException(
                        $"The array store is full of arrays that queued or running jobs still need ({total - bytes:N0} of {_budget:N0} bytes). " +
                        "Retry when some jobs have finished.", tooLargeEver: false);
                }
            }
            await transaction.CommitAsync(ct);
            return true;
        }, safeToRetry: true, cancellationToken);
        return info;
    }

    /// <summary>Deletes least recently used unpinned arrays (never <paramref name="keepId"/>) until <paramref name="needed"/> bytes are freed.</summary>
    private static async Task<long> EvictAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string keepId, long needed, CancellationToken ct)
    {
        // Victims: the shortest LRU prefix of unpinned rows whose sizes add up to what is needed. The DELETE re-checks
        // pins = 0 on each row it locks, so an array pinned meanwhile survives (and the caller sees less freed).
        await using var evict = new NpgsqlCommand($"""
            WITH candidates AS (
                SELECT id, bytes, sum(bytes) OVER (ORDER BY last_used, id) AS running
                FROM {S}.arrays WHERE pins = 0 AND id <> @keep
            ), deleted AS (
                DELETE FROM {S}.arrays a USING candidates c
                WHERE a.id = c.id AND c.running - c.bytes < @needed AND a.pins = 0
                RETURNING a.bytes
            ), freed AS (SELECT coalesce(sum(bytes), 0)::bigint AS bytes FROM deleted)
            UPDATE {S}.array_usage u SET bytes = u.bytes - freed.bytes FROM freed WHERE u.id = 1 RETURNING freed.bytes
            """, connection, transaction);
        evict.Parameters.AddWithValue("keep", keepId);
        evict.Parameters.AddWithValue("needed", needed);
        return (long)(await evict.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Marks a stored array as just used; false when it is not stored.</summary>
    private Task<bool> TouchAsync(string id, CancellationToken cancellationToken) =>
        database.RunAsync(async (connection, ct) =>
        {
            // Rewriting last_used at most once a second per array keeps hot arrays (a shared kernel) from becoming a write hotspot.
            await using var command = new NpgsqlCommand($"""
                WITH touched AS (
                    UPDATE {S}.arrays SET last_used = now() WHERE id = @id AND last_used < now() - interval '1 second'
                )
                SELECT EXISTS (SELECT 1 FROM {S}.arrays WHERE id = @id)
                """, connection);
            command.Parameters.AddWithValue("id", id);
            return (bool)(await command.ExecuteScalarAsync(ct))!;
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<Array2D?> TryGetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return null;
        return await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"""
                WITH touched AS (
                    UPDATE {S}.arrays SET last_used = now() WHERE id = @id AND last_used < now() - interval '1 second'
                )
                SELECT rows, cols, data FROM {S}.arrays WHERE id = @id
                """, connection);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, ct);
            if (!await reader.ReadAsync(ct)) return null;
            int rows = reader.GetInt32(0), cols = reader.GetInt32(1);
            var array = new Array2D(rows, cols);
            // Straight into the array's memory: no intermediate byte[] of the whole value.
            await using var data = await reader.GetStreamAsync(2, ct);
            await data.ReadExactlyAsync(AsWritableBytes(array.Data), ct);
            return array;
        }, safeToRetry: true, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return null;
        return await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT rows, cols, bytes FROM {S}.arrays WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, ct);
            if (!await reader.ReadAsync(ct)) return null;
            return new StoredArrayInfo(id, [reader.GetInt32(0), reader.GetInt32(1)], "float64", reader.GetInt64(2));
        }, safeToRetry: true, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return ArrayDeleteOutcome.NotFound;
        // Safe to retry: a repeat after a lost commit answers NotFound, which is what the array now is.
        return await database.RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            // Usage row first (see the lock order above), then the array row.
            await using (var lockUsage = new NpgsqlCommand($"SELECT bytes FROM {S}.array_usage WHERE id = 1 FOR UPDATE", connection, transaction))
                await lockUsage.ExecuteNonQueryAsync(ct);
            await using var command = new NpgsqlCommand($"""
                WITH target AS (SELECT id, pins FROM {S}.arrays WHERE id = @id FOR UPDATE),
                deleted AS (DELETE FROM {S}.arrays a USING target t WHERE a.id = t.id AND t.pins = 0 RETURNING a.bytes),
                accounted AS (UPDATE {S}.array_usage u SET bytes = u.bytes - d.bytes FROM deleted d WHERE u.id = 1)
                SELECT (SELECT count(*) FROM target) AS found, (SELECT count(*) FROM deleted) AS removed
                """, connection, transaction);
            command.Parameters.AddWithValue("id", id);
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                long found = reader.GetInt64(0), removed = reader.GetInt64(1);
                await reader.CloseAsync();
                await transaction.CommitAsync(ct);
                return found == 0 ? ArrayDeleteOutcome.NotFound : removed == 1 ? ArrayDeleteOutcome.Deleted : ArrayDeleteOutcome.InUse;
            }
        }, safeToRetry: true, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return false;
        // Not repeated on a lost connection: a pin that did commit would be counted twice and the array never evicted.
        return await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"UPDATE {S}.arrays SET pins = pins + 1, last_used = now() WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, safeToRetry: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return;
        await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"UPDATE {S}.arrays SET pins = pins - 1 WHERE id = @id AND pins > 0", connection);
            command.Parameters.AddWithValue("id", id);
            return await command.ExecuteNonQueryAsync(ct);
        }, safeToRetry: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) =>
        await database.PingAsync(TimeSpan.FromSeconds(3), cancellationToken);

    /// <summary>Bytes stored, for all nodes together (the figure the budget is checked against).</summary>
    public Task<long> GetUsedBytesAsync(CancellationToken cancellationToken = default) =>
        database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT bytes FROM {S}.array_usage WHERE id = 1", connection);
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }, safeToRetry: true, cancellationToken);

    private static ReadOnlyMemory<byte> AsBytes(double[] data) => new DoubleByteMemory(data).Memory;

    private static Memory<byte> AsWritableBytes(double[] data) => new DoubleByteMemory(data).Memory;

    /// <summary>The bytes of a double[] as Memory&lt;byte&gt; without copying (Npgsql and streams want Memory, not Span).</summary>
    private sealed class DoubleByteMemory(double[] data) : MemoryManager<byte>
    {
        private GCHandle _pin;

        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(data.AsSpan());

        public override unsafe MemoryHandle Pin(int elementIndex = 0)
        {
            if (!_pin.IsAllocated) _pin = GCHandle.Alloc(data, GCHandleType.Pinned);
            return new MemoryHandle((byte*)_pin.AddrOfPinnedObject() + elementIndex, default, this);
        }

        public override void Unpin()
        {
            if (_pin.IsAllocated) _pin.Free();
        }

        protected override void Dispose(bool disposing) => Unpin();
    }
}
