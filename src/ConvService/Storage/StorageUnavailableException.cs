using ConvService.Storage.Postgres;

namespace ConvService.Storage;

/// <summary>
/// A store could not be reached (database down, connection lost, timeout). Transient: the same operation succeeds
/// once the store is back, so jobs that hit it are retried rather than failed.
/// </summary>
/// <param name="message">What could not be done.</param>
/// <param name="inner">The store's own exception.</param>
public sealed class StorageUnavailableException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>True when <paramref name="exception"/> means a store is unreachable right now, whatever the store.</summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is StorageUnavailableException || PostgresErrors.IsUnavailable(exception);
}
