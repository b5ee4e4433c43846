namespace ConvService.Http;

/// <summary>
/// A request the service refuses, with the HTTP status and a detail that says what is wrong and how to fix it.
/// Thrown from validation deep inside request handling; <see cref="ProblemExceptionHandler"/> writes it as problem+json.
/// </summary>
public sealed class RequestRejectedException(int status, string title, string detail, TimeSpan? retryAfter = null) : Exception(detail)
{
    /// <summary>HTTP status code (4xx, or 503 for a temporarily full store).</summary>
    public int Status { get; } = status;
    /// <summary>Short, stable title for the kind of problem.</summary>
    public string Title { get; } = title;
    /// <summary>When to retry, for 429 and 503.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>400: malformed or invalid input.</summary>
    public static RequestRejectedException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Invalid request", detail);
    /// <summary>404: unknown resource.</summary>
    public static RequestRejectedException NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);
    /// <summary>413: too large.</summary>
    public static RequestRejectedException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Too large", detail);
    /// <summary>422: well-formed but cannot be done (scipy refusals, limits, unknown referenced arrays).</summary>
    public static RequestRejectedException Unprocessable(string detail) => new(StatusCodes.Status422UnprocessableEntity, "Cannot be processed", detail);
}
