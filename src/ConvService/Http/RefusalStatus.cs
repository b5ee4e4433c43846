using ConvService.Model;

namespace ConvService.Http;

/// <summary>The one place a domain <see cref="RefusalKind"/> becomes an HTTP status code.</summary>
public static class RefusalStatus
{
    /// <summary>The status code for <paramref name="kind"/>.</summary>
    public static int Of(RefusalKind kind) => kind switch
    {
        RefusalKind.Invalid => StatusCodes.Status400BadRequest,
        RefusalKind.NotFound => StatusCodes.Status404NotFound,
        RefusalKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        RefusalKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        RefusalKind.Busy => StatusCodes.Status429TooManyRequests,
        RefusalKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "A refusal kind without a status code."),
    };
}
