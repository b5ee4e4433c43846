namespace ConvService.Storage;

/// <summary>
/// Tells a store outage (worth a retry, and a 503 on a request) from a bug. Each storage registers its own, so the jobs
/// that retry on outages need not know which database is behind the stores.
/// </summary>
public interface IStorageFaults
{
    /// <summary>True when <paramref name="exception"/> means a store is unreachable right now.</summary>
    bool IsUnavailable(Exception exception);
}

/// <summary>The in-memory stores' faults: they are never unreachable, so only a <see cref="StorageUnavailableException"/> is an outage.</summary>
public sealed class InMemoryStorageFaults : IStorageFaults
{
    /// <inheritdoc />
    public bool IsUnavailable(Exception exception) => exception is StorageUnavailableException;
}
