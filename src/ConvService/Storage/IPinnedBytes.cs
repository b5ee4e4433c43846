namespace ConvService.Storage;

/// <summary>
/// An array store that knows how many of its bytes are pinned (inputs of queued or running jobs and benchmarks, which
/// cannot be evicted). The submitter refuses new work whose inputs would pin more than
/// <see cref="Options.LimitsOptions.MaxPinnedFraction"/> of the store, so queued work cannot take the whole store from
/// other clients' uploads and from the results of running jobs.
/// </summary>
public interface IPinnedBytes
{
    /// <summary>The store's budget in bytes.</summary>
    long BudgetBytes { get; }

    /// <summary>Bytes of contents pinned at least once (each shared content once).</summary>
    long PinnedBytes { get; }

    /// <summary>Whether <paramref name="id"/> is stored and already pinned (so pinning it again adds no bytes).</summary>
    bool IsPinned(string id);
}
