using ConvService.Observability;

namespace ConvService.Http;

/// <summary>
/// Guards <c>/hangfire</c> when the dashboard is open to remote clients (<c>ConvService:DashboardAllowRemote</c>) and
/// API keys are configured: the key is required from everyone, in the <c>X-Api-Key</c> header or, for a browser that
/// cannot send headers, once as <c>?apiKey=</c>. A valid query key is swapped for an HttpOnly, SameSite=Strict cookie
/// scoped to /hangfire (an HMAC of the key, not the key) and the browser is redirected to the same URL without it, so
/// the key does not stay in the address bar or in the dashboard's own links.
/// </summary>
public sealed class DashboardKeyGate(RequestDelegate next, ApiKeyRing keys, RefusalMetrics counters)
{
    /// <summary>Where the dashboard is served.</summary>
    public static readonly PathString Path = "/hangfire";

    /// <summary>The cookie that remembers a browser's key.</summary>
    public const string CookieName = "ConvService.Dashboard";

    /// <summary>The query parameter a browser may pass the key in once.</summary>
    public const string QueryName = "apiKey";

    /// <summary>Lets the request through, swaps a query key for a cookie, or answers 401 problem+json.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        // The header key was checked by the ApiKey authentication handler, which runs before this gate.
        if (ApiKeyClaims.KeyIndexOf(context.User) >= 0 || keys.IsDashboardToken(request.Cookies[CookieName]))
            return next(context);

        if (request.Query.TryGetValue(QueryName, out var queryKey) && keys.Match(queryKey) is var index and >= 0)
        {
            context.Response.Cookies.Append(CookieName, keys.DashboardToken(index), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = request.IsHttps,
                Path = Path.Value,
                IsEssential = true,
            });
            var rest = request.Query.Where(p => p.Key != QueryName).SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)));
            context.Response.Redirect(request.PathBase + request.Path + QueryString.Create(rest));
            return Task.CompletedTask;
        }

        counters.Refused(StatusCodes.Status401Unauthorized);
        context.Response.Headers.WWWAuthenticate = ApiKeyRing.Challenge;
        return ProblemResponses.WriteAsync(context, StatusCodes.Status401Unauthorized, "API key required",
            $"The remote dashboard needs an API key: send it in the {ApiKeyRing.HeaderName} header, or open /hangfire?{QueryName}=KEY once in a browser.");
    }
}
