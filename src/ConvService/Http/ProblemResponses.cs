using Microsoft.AspNetCore.Mvc;

namespace ConvService.Http;

/// <summary>
/// Writes a refusal as problem+json: for <see cref="ProblemExceptionHandler"/>, and for middleware that answers before
/// any endpoint runs (API keys, rate limits) without an exception per refused request, since a client hammering a
/// rate limit should cost the node as little as possible.
/// </summary>
public static class ProblemResponses
{
    /// <summary>Sets the status (and Retry-After) and writes the problem; <paramref name="exception"/> is passed on to the problem writer when there is one.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, TimeSpan? retryAfter = null, Exception? exception = null)
    {
        var response = context.Response;
        if (response.HasStarted) return;
        response.StatusCode = status;
        if (retryAfter is { } wait)
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = problem }))
            return;
        // The writer declines when Accept excludes JSON (a 406 for Accept: text/csv, say); the client still needs to know why.
        problem.Extensions["traceId"] = context.TraceIdentifier;
        await response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted);
    }
}
