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
/// same id, so two nodes storing one result store it once). Pins are rows of <c>array_pins</c> (counted, and never a
/// shared hot row). The byte budget (<see cref="LimitsOptions.ArrayStoreBytes"/>, for all nodes together) is enforced
/// in SQL by evicting the least recently used unpinned rows in the transaction that adds a row.
/// </summary>
/// <remarks>
/// <para>Lock order, so that no two transactions wait on each other: a put locks its own new (still invisible) row, then
/// its usage stripe, then — only when over budget — the eviction lock and the victims' rows; a delete locks the
/// array's usage stripe, then the array row; a pin holds a key-share lock on one array row only.</para>
/// <para>The budget is exact for puts that evict one after another (they serialize on the eviction lock); puts that
/// commit at the same moment without evicting may overshoot it by their own sizes.</para>
/// </remarks>
public sealed class PostgresArrayStore(PostgresDatabase database, IOptions<ConvServiceOptions> options) : IArrayStore
{
    private const string S = PostgresDatabase.Schema;
    // PostgreSQL refuses a single field over 1 GB.
    private const long MaxFieldBytes = (1L << 30) - 1024;
    private readonly long _budget = options.Value.Limits.ArrayStoreBytes;
    private readonly NodeArrayCache _cache = new(options.Value.Limits.NodeArrayCacheBytes);
    private const long EvictionLockKey = 0x636f6e7665766963; // "conevic": one evicting transaction at a time, on every node

    /// <inheritdoc />
    /// <remarks>The bytes are copied into the database, so the buffer is never kept.</remarks>
    public async ValueTask<ArrayPutOutcome> PutBufferAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken = default) =>
        new(await CopyInAsync(array, hash, cancellationToken), KeptBuffer: false);

    private async ValueTask<StoredArrayInfo> CopyInAsync(Array2D array, ArrayHash hash, CancellationToken cancellationToken)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Stored arrays are little-endian float64.");
        string id = hash.Id;
        long bytes = array.Length * sizeof(double);
        var info = StoredArrayInfo.Of(hash, array);
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
        // A pin taken on an eviction victim while the eviction ran makes the victim's delete fail its foreign key
        // (23503); the put then simply runs again with a fresh view.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await database.RunAsync((connection, ct) => InsertAsync(connection, array, hash, bytes, ct), safeToRetry: true, cancellationToken);
                return info;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation && attempt < 3)
            {
            }
        }
    }

    private async Task<bool> InsertAsync(NpgsqlConnection connection, Array2D array, ArrayHash hash, long bytes, CancellationToken ct)
    {
        string id = hash.Id;
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        if (hash.Computation is not null)
        {
            // A job's result (its id derives from the job): the job's outcome, committed synchronously right after, flushes
            // it, and a crash before that loses both, so the job runs again. Its own commit need not wait for the disk.
            await using var relaxed = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection, transaction);
            await relaxed.ExecuteNonQueryAsync(ct);
        }
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO {S}.arrays (id, rows, cols, bytes, sha256, checksum, data) VALUES (@id, @rows, @cols, @bytes, @sha256, @checksum, @data) ON CONFLICT (id) DO NOTHING",
            connection, transaction))
        {
            insert.Parameters.AddWithValue("id", hash.Id);
            insert.Parameters.AddWithValue("sha256", (object?)hash.DataSha256 ?? DBNull.Value);
            insert.Parameters.AddWithValue("checksum", hash.Checksum);
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

        int stripe = Stripe(id);
        long total;
        await using (var add = new NpgsqlCommand(
            $"""
            WITH added AS (UPDATE {S}.array_usage SET bytes = bytes + @bytes WHERE stripe = @stripe RETURNING bytes)
            SELECT (SELECT coalesce(sum(bytes), 0) FROM {S}.array_usage WHERE stripe <> @stripe)::bigint + (SELECT bytes FROM added)
            """, connection, transaction))
        {
            add.Parameters.AddWithValue("bytes", bytes);
            add.Parameters.AddWithValue("stripe", stripe);
            total = (long)(await add.ExecuteScalarAsync(ct))!;
        }
        if (total > _budget)
        {
            // One evictor at a time, and it re-reads the total: the evictor before it may have made room already.
            await using (var lockEviction = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                lockEviction.Parameters.AddWithValue("key", EvictionLockKey);
                await lockEviction.ExecuteNonQueryAsync(ct);
            }
            // A new statement, so a new snapshot: it sees what the previous evictor committed.
            await using (var reread = new NpgsqlCommand($"SELECT sum(bytes)::bigint FROM {S}.array_usage", connection, transaction))
                total = (long)(await reread.ExecuteScalarAsync(ct))!;
            long freed = total > _budget ? await EvictAsync(connection, transaction, id, stripe, total - _budget, ct) : 0;
            if (total - freed > _budget)
            {
                await transaction.RollbackAsync(ct);
                throw new ArrayStoreFullException(
                    $"The array store is full of arrays that queued or running jobs still need ({total - freed - bytes:N0} of {_budget:N0} bytes). " +
                    "Retry when some jobs have finished.", tooLargeEver: false);
            }
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Deletes least recently used unpinned arrays (never <paramref name="keepId"/>) until <paramref name="needed"/> bytes
    /// are freed, and subtracts them from the caller's stripe (which it holds; only the stripes' sum means anything).
    /// </summary>
    private static async Task<long> EvictAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string keepId, int stripe, long needed, CancellationToken ct)
    {
        // Victims: the shortest LRU prefix of unpinned rows whose sizes add up to what is needed.
        await using var evict = new NpgsqlCommand($"""
            WITH candidates AS (
                SELECT a.id, a.bytes, sum(a.bytes) OVER (ORDER BY a.last_used, a.id) AS running
                FROM {S}.arrays a
                WHERE a.id <> @keep AND NOT EXISTS (SELECT 1 FROM {S}.array_pins p WHERE p.array_id = a.id)
            ), deleted AS (
                DELETE FROM {S}.arrays a USING candidates c
                WHERE a.id = c.id AND c.running - c.bytes < @needed
                RETURNING a.bytes
            ), freed AS (SELECT coalesce(sum(bytes), 0)::bigint AS bytes FROM deleted)
            UPDATE {S}.array_usage u SET bytes = u.bytes - freed.bytes FROM freed WHERE u.stripe = @stripe RETURNING freed.bytes
            """, connection, transaction);
        evict.Parameters.AddWithValue("keep", keepId);
        evict.Parameters.AddWithValue("needed", needed);
        evict.Parameters.AddWithValue("stripe", stripe);
        return (long)(await evict.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The usage stripe of an array: the first hex digit of its id.</summary>
    private static int Stripe(string id) => Convert.ToInt32(id[..1], 16);

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
        if (_cache.TryGet(id) is { } cached)
        {
            // The touch also says whether the array still exists: another node may have deleted or evicted it.
            if (await TouchAsync(id, cancellationToken)) return cached;
            _cache.Remove(id);
            return null;
        }
        var downloaded = await DownloadAsync(id, cancellationToken);
        if (downloaded is not null) _cache.Add(id, downloaded);
        return downloaded;
    }

    private async ValueTask<Array2D?> DownloadAsync(string id, CancellationToken cancellationToken) =>
        await database.RunAsync(async (connection, ct) =>
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
            var array = Array2D.CreateUninitialized(rows, cols); // ReadExactlyAsync fills all of it, or throws
            // Straight into the array's memory: no intermediate byte[] of the whole value.
            await using var data = await reader.GetStreamAsync(2, ct);
            await data.ReadExactlyAsync(AsWritableBytes(array.Data), ct);
            return array;
        }, safeToRetry: true, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<StoredArrayInfo?> TryGetInfoAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return null;
        return await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"SELECT rows, cols, bytes, sha256, checksum FROM {S}.arrays WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, ct);
            if (!await reader.ReadAsync(ct)) return null;
            return new StoredArrayInfo(id, [reader.GetInt32(0), reader.GetInt32(1)], "float64", reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
        }, safeToRetry: true, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<ArrayDeleteOutcome> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return ArrayDeleteOutcome.NotFound;
        _cache.Remove(id); // whatever the outcome: an array still in use is downloaded again when next read
        // Safe to retry: a repeat after a lost commit answers NotFound, which is what the array now is.
        try
        {
            return await database.RunAsync(async (connection, ct) =>
            {
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                // Usage stripe first (see the lock order above), then the array row.
                await using (var lockUsage = new NpgsqlCommand($"SELECT bytes FROM {S}.array_usage WHERE stripe = @stripe FOR UPDATE", connection, transaction))
                {
                    lockUsage.Parameters.AddWithValue("stripe", Stripe(id));
                    await lockUsage.ExecuteNonQueryAsync(ct);
                }
                await using var command = new NpgsqlCommand($"""
                    WITH target AS (SELECT id FROM {S}.arrays WHERE id = @id FOR UPDATE),
                    deleted AS (
                        DELETE FROM {S}.arrays a USING target t
                        WHERE a.id = t.id AND NOT EXISTS (SELECT 1 FROM {S}.array_pins p WHERE p.array_id = a.id)
                        RETURNING a.bytes),
                    accounted AS (UPDATE {S}.array_usage u SET bytes = u.bytes - d.bytes FROM deleted d WHERE u.stripe = @stripe)
                    SELECT (SELECT count(*) FROM target) AS found, (SELECT count(*) FROM deleted) AS removed
                    """, connection, transaction);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("stripe", Stripe(id));
                long found, removed;
                await using (var reader = await command.ExecuteReaderAsync(ct))
                {
                    await reader.ReadAsync(ct);
                    found = reader.GetInt64(0);
                    removed = reader.GetInt64(1);
                }
                await transaction.CommitAsync(ct);
                return found == 0 ? ArrayDeleteOutcome.NotFound : removed == 1 ? ArrayDeleteOutcome.Deleted : ArrayDeleteOutcome.InUse;
            }, safeToRetry: true, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            return ArrayDeleteOutcome.InUse; // a job pinned it while we were deleting it
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> PinAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return false;
        // Not repeated on a lost connection: a pin that did commit would be counted twice and the array never evicted.
        return await database.RunAsync(async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"INSERT INTO {S}.array_pins (array_id) VALUES (@id)", connection);
            command.Parameters.AddWithValue("id", id);
            try
            {
                return await command.ExecuteNonQueryAsync(ct) == 1;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                return false; // not stored (or deleted at this moment)
            }
        }, safeToRetry: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask UnpinAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!ArrayId.IsWellFormed(id)) return;
        await database.RunAsync(async (connection, ct) =>
        {
            // SKIP LOCKED: concurrent unpins of one array each take a different pin row; with none left it is a no-op.
            await using var command = new NpgsqlCommand($"""
                DELETE FROM {S}.array_pins WHERE pin_id =
                    (SELECT pin_id FROM {S}.array_pins WHERE array_id = @id LIMIT 1 FOR UPDATE SKIP LOCKED)
                """, connection);
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
            await using var command = new NpgsqlCommand($"SELECT sum(bytes)::bigint FROM {S}.array_usage", connection);
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
