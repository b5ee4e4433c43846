namespace ConvService.Http;

/// <summary>Gives the framework's own refusals (unmatched routes, wrong verbs, content types) a detail that says what to do.</summary>
public static class FrameworkProblemDetail
{
    /// <summary>Fills a missing detail on the framework's 404, 405 and 415.</summary>
    public static void Fill(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Detail is not null) return;
        var request = context.HttpContext.Request;
        context.ProblemDetails.Detail = context.ProblemDetails.Status switch
        {
            StatusCodes.Status404NotFound => $"No endpoint matches {request.Method} {request.Path}. The API is listed at /swagger.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not accept {request.Method}. The API is listed at /swagger.",
            StatusCodes.Status415UnsupportedMediaType => $"{request.Method} {request.Path} does not accept Content-Type '{request.ContentType ?? "(none)"}'. " +
                "JSON bodies need Content-Type: application/json; arrays may also be sent as application/x-npy or image/png (POST /arrays).",
            _ => null,
        };
    }
}
