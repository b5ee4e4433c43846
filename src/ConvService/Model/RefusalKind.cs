namespace ConvService.Model;

/// <summary>
/// Why the service refuses a request, in the domain's words. Only the HTTP edge (<c>Http/RefusalStatus</c>) knows which
/// status code each kind is, so jobs, benchmarks and stores refuse without knowing they are behind HTTP.
/// </summary>
public enum RefusalKind
{
    /// <summary>Malformed or invalid input (400).</summary>
    Invalid,
    /// <summary>An unknown resource (404).</summary>
    NotFound,
    /// <summary>An input over a size limit (413).</summary>
    TooLarge,
    /// <summary>Well-formed but cannot be done: scipy's refusals, work limits, unknown referenced arrays (422).</summary>
    Unprocessable,
    /// <summary>Too much work queued right now; retry later (429).</summary>
    Busy,
    /// <summary>A store or queue did not answer; retry shortly (503).</summary>
    Unavailable,
}
