namespace ConvService.Storage.Postgres;

/// <summary>PostgreSQL's outages (<see cref="PostgresErrors.IsUnavailable"/>), and any <see cref="StorageUnavailableException"/>.</summary>
public sealed class PostgresStorageFaults : IStorageFaults
{
    /// <inheritdoc />
    public bool IsUnavailable(Exception exception) => exception is StorageUnavailableException || PostgresErrors.IsUnavailable(exception);
}
