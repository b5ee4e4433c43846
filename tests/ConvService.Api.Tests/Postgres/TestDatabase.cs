using Npgsql;

namespace ConvService.Api.Tests.Postgres;

/// <summary>
/// A fresh database per test on the server named by CONVSERVICE_TEST_POSTGRES (scripts/postgres-dev.sh prints one),
/// dropped afterwards, so the scale-out tests never see each other's rows.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string Variable = "CONVSERVICE_TEST_POSTGRES";

    private readonly string _adminConnectionString;

    private TestDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>Connection string of the fresh database.</summary>
    public string ConnectionString { get; }

    /// <summary>Skips the calling test unless CONVSERVICE_TEST_POSTGRES is set; otherwise creates a fresh database.</summary>
    public static async Task<TestDatabase> CreateAsync()
    {
        string? server = Environment.GetEnvironmentVariable(Variable);
        Skip.If(string.IsNullOrWhiteSpace(server),
            $"{Variable} is not set: these scale-out tests need PostgreSQL. Run `export {Variable}=$(scripts/postgres-dev.sh | tail -n 1)` first (.ci/run does).");
        var builder = new NpgsqlConnectionStringBuilder(server);
        if (builder.Host is not ("127.0.0.1" or "localhost" or "::1"))
            throw new InvalidOperationException($"{Variable} must point at 127.0.0.1: the tests create and drop databases there.");
        string name = "test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        builder.Database = name;
        return new TestDatabase(server!, name, builder.ConnectionString);
    }

    /// <summary>A connection string to this database that goes through another host and port (a proxy).</summary>
    public string Via(int port) => new NpgsqlConnectionStringBuilder(ConnectionString) { Host = "127.0.0.1", Port = port }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (Environment.GetEnvironmentVariable("CONVSERVICE_TEST_KEEP_DATABASES") == "1") return; // to inspect a failure afterwards
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        // FORCE ends the sessions that hosts disposed a moment ago may still hold. It cannot end an autovacuum worker
        // that happens to be in the database (a superuser process): wait for it a little, then leave the database to
        // the throwaway cluster rather than fail a test that passed.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse)
            {
                if (attempt >= 20) return;
                await Task.Delay(250);
            }
        }
    }
}
