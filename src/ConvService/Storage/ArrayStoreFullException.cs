namespace ConvService.Storage;

/// <summary>The array store's byte budget cannot take an array.</summary>
/// <param name="message">What happened and what to do.</param>
/// <param name="tooLargeEver">True when the array alone exceeds the whole budget (retrying cannot help).</param>
public sealed class ArrayStoreFullException(string message, bool tooLargeEver) : Exception(message)
{
    /// <summary>True when the array alone exceeds the whole budget.</summary>
    public bool TooLargeEver { get; } = tooLargeEver;
}
