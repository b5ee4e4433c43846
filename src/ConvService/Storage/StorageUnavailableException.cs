namespace ConvService.Storage;

/// <summary>
/// A store could not be reached (database down, connection lost, timeout). Transient: the same operation succeeds
/// once the store is back, so jobs that hit it are retried rather than failed. Which of a store's own exceptions mean
/// this is the store's to say (<see cref="IStorageFaults"/>).
/// </summary>
/// <param name="message">What could not be done.</param>
/// <param name="inner">The store's own exception.</param>
public sealed class StorageUnavailableException(string message, Exception inner) : Exception(message, inner);
