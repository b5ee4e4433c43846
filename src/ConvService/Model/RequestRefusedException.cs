namespace ConvService.Model;

/// <summary>
/// A request the service refuses, with a detail that says what is wrong and how to fix it. Thrown from validation deep
/// inside request handling (the submitter, the benchmark planner, the upload budget); the HTTP edge writes it as
/// problem+json with the status its <see cref="Kind"/> maps to.
/// </summary>
/// <param name="kind">Why it is refused.</param>
/// <param name="title">Short, stable title for the kind of problem.</param>
/// <param name="detail">What is wrong and how to fix it.</param>
/// <param name="retryAfter">When to retry, for <see cref="RefusalKind.Busy"/> and <see cref="RefusalKind.Unavailable"/>.</param>
public sealed class RequestRefusedException(RefusalKind kind, string title, string detail, TimeSpan? retryAfter = null) : Exception(detail)
{
    /// <summary>Why it is refused.</summary>
    public RefusalKind Kind { get; } = kind;
    /// <summary>Short, stable title for the kind of problem.</summary>
    public string Title { get; } = title;
    /// <summary>When to retry, for busy and unavailable refusals.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>Malformed or invalid input.</summary>
    public static RequestRefusedException Invalid(string detail) => new(RefusalKind.Invalid, "Invalid request", detail);
    /// <summary>An unknown resource.</summary>
    public static RequestRefusedException NotFound(string detail) => new(RefusalKind.NotFound, "Not found", detail);
    /// <summary>Too large.</summary>
    public static RequestRefusedException TooLarge(string detail) => new(RefusalKind.TooLarge, "Too large", detail);
    /// <summary>Well-formed but cannot be done (scipy refusals, limits, unknown referenced arrays).</summary>
    public static RequestRefusedException Unprocessable(string detail) => new(RefusalKind.Unprocessable, "Cannot be processed", detail);
    /// <summary>Too much queued now: retry after <paramref name="retryAfter"/>.</summary>
    public static RequestRefusedException Busy(string title, string detail, TimeSpan retryAfter) => new(RefusalKind.Busy, title, detail, retryAfter);
    /// <summary>A store did not answer: retry after <paramref name="retryAfter"/>.</summary>
    public static RequestRefusedException Unavailable(string title, string detail, TimeSpan retryAfter) => new(RefusalKind.Unavailable, title, detail, retryAfter);
}
