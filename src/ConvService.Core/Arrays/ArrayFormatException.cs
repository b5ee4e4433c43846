namespace ConvService.Core.Arrays;

/// <summary>
/// Bytes that claim to be an array (.npy, PNG, nested JSON rows) are malformed, unsupported or lying
/// about their size. The message says what is wrong and how to fix it; the host maps it to a 4xx.
/// </summary>
public class ArrayFormatException(string message) : Exception(message);

/// <summary>The array's declared size exceeds the configured limit; raised before anything is allocated.</summary>
public sealed class ArrayTooLargeException(string message) : ArrayFormatException(message);
