using Hangfire.PostgreSql;
using Npgsql;

namespace ConvService.Storage.Postgres;

/// <summary>Hands Hangfire connections from a pool we own, so <see cref="PostgresDatabase.ClearPools"/> can drop its dead ones.</summary>
internal sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
{
    public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
}
