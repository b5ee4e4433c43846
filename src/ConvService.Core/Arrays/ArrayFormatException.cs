namespace ConvService.Core.Arrays;

/// <summary>
/// Bytes that claim to be an array (.npy, PNG, nested JSON rows) are malformed, unsupported or lying
/// about their size. The message says what is wrong and how to fix it; the host maps it to a 4xx.
/// </summary>
public class ArrayFormatException(string message) : Exception(message);

/// <summary>The array's declared size exceeds the configured limit; raised before anything is allocated.</summary>
public sealed class ArrayTooLargeException(string message) : ArrayFormatException(message);

/// <summary>
/// Well-formed bytes holding something this service does not read as an array (a FITS table or cube, say); the host
/// maps it to 415. The message says what was found and what to send instead.
/// </summary>
public sealed class ArrayUnsupportedException(string message) : ArrayFormatException(message);
