using System.Security.Cryptography;
using System.Text;
using ConvService.Observability;
using ConvService.Options;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace ConvService.Http;

/// <summary>
/// The configured API keys (<c>ConvService:ApiKeys</c>) and a constant-time check of a presented key against them.
/// </summary>
/// <remarks>
/// Keys are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>: comparing the
/// raw strings would return early on a length mismatch (leaking key lengths), and comparing equal-length digests
/// against every key, without stopping at the first match, leaks neither a key's length nor which key matched.
/// Only digests are kept, so the keys themselves do not linger in this object.
/// </remarks>
public sealed class ApiKeyRing
{
    /// <summary>The header that carries the key.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The WWW-Authenticate challenge sent with every 401.</summary>
    public const string Challenge = "ApiKey header=\"X-Api-Key\"";

    /// <summary>Longest key accepted (and checked); longer values are refused without hashing them.</summary>
    public const int MaxKeyLength = 256;

    private static readonly byte[] DashboardTokenPurpose = "convservice-dashboard-cookie-v1"u8.ToArray();

    private static readonly byte[] OwnerPurpose = "convservice-owner-v1"u8.ToArray();

    /// <summary>
    /// The owner of what a caller without a valid key could reach when keys are on. The key check refuses such callers
    /// on every owned route before they get there; should one slip through, it sees this empty namespace, never all data.
    /// </summary>
    public const string NoKeyOwner = "anonymous";

    private readonly byte[][] _digests;
    private readonly byte[][] _dashboardTokens;
    private readonly string[] _owners;

    /// <summary>Builds the ring from the options.</summary>
    public ApiKeyRing(IOptions<ConvServiceOptions> options)
    {
        var keys = options.Value.ApiKeys ?? [];
        _digests = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
        // The dashboard cookie carries an HMAC of a fixed purpose under the key, never the key: a stolen cookie is
        // good for the read-only dashboard only, and rotating the key invalidates it.
        _dashboardTokens = _digests.Select(d => HMACSHA256.HashData(d, DashboardTokenPurpose)).ToArray();
        // Owner ids are stored on records and in array ids: an HMAC of a fixed purpose under the key's digest, so the
        // database never holds the key or a plain hash of it that could be checked against guesses offline cheaply.
        _owners = _digests.Select(d => Convert.ToHexStringLower(HMACSHA256.HashData(d, OwnerPurpose))).ToArray();
    }

    /// <summary>
    /// Who owns what this request creates and what it may read: null without configured keys (single-user lab mode:
    /// everything is everyone's, as before keys existed), else the owner id of the request's key.
    /// </summary>
    public string? OwnerOf(HttpContext context) => !Enabled ? null : MatchHeader(context) is var index and >= 0 ? _owners[index] : NoKeyOwner;

    /// <summary>True for the routes whose data belongs to a key: with keys configured every method there needs one.</summary>
    public static bool IsOwnedData(PathString path) =>
        path.StartsWithSegments("/convolutions") || path.StartsWithSegments("/benchmarks") || path.StartsWithSegments("/arrays");

    /// <summary>True when at least one key is configured (mutating endpoints then need one).</summary>
    public bool Enabled => _digests.Length > 0;

    /// <summary>The index of the configured key equal to <paramref name="presented"/>, or -1.</summary>
    public int Match(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > MaxKeyLength) return -1;
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        return FindInConstantTime(digest, _digests);
    }

    /// <summary>The index of the key whose header value is in <paramref name="values"/> (exactly one value), or -1.</summary>
    public int Match(StringValues values) => values.Count == 1 ? Match(values[0]) : -1;

    private static readonly object HeaderMatchKey = new();

    /// <summary>
    /// <see cref="Match(StringValues)"/> of the request's <c>X-Api-Key</c> header, hashed once per request: the rate
    /// limiter (which partitions by key) and the key check both ask.
    /// </summary>
    public int MatchHeader(HttpContext context)
    {
        if (context.Items.TryGetValue(HeaderMatchKey, out var cached) && cached is int index) return index;
        index = Match(context.Request.Headers[HeaderName]);
        context.Items[HeaderMatchKey] = index;
        return index;
    }

    /// <summary>The dashboard cookie value for key <paramref name="index"/>.</summary>
    public string DashboardToken(int index) => Base64UrlEncode(_dashboardTokens[index]);

    /// <summary>True when <paramref name="cookie"/> is the dashboard token of a configured key.</summary>
    public bool IsDashboardToken(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 64) return false;
        byte[] token;
        try
        {
            token = Convert.FromBase64String(cookie.Replace('-', '+').Replace('_', '/') + new string('=', (4 - cookie.Length % 4) % 4));
        }
        catch (FormatException)
        {
            return false;
        }
        return token.Length == SHA256.HashSizeInBytes && FindInConstantTime(token, _dashboardTokens) >= 0;
    }

    private static int FindInConstantTime(ReadOnlySpan<byte> candidate, byte[][] known)
    {
        int found = -1;
        for (int i = 0; i < known.Length; i++)
        {
            // No early exit: every key is compared whatever matched before it.
            bool equal = CryptographicOperations.FixedTimeEquals(candidate, known[i]);
            found = equal && found < 0 ? i : found;
        }
        return found;
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Requires a configured API key in <c>X-Api-Key</c>, when <c>ConvService:ApiKeys</c> is set, for every request that
/// can change state (any method but GET, HEAD, OPTIONS and TRACE) and for every request to owned data
/// (<c>/convolutions</c>, <c>/benchmarks</c>, <c>/arrays</c>, reads included): jobs, benchmarks and arrays belong to
/// the key that created them, and an anonymous list or content-id lookup would reveal them. Probes, metrics, Swagger
/// and the web UI's files stay open. The Hangfire dashboard has its own gate (<see cref="DashboardKeyGate"/>).
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyRing keys, RefusalMetrics counters)
{
    /// <summary>Lets the request through, or answers 401 problem+json with a WWW-Authenticate challenge.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!keys.Enabled || (IsSafe(request.Method) && !ApiKeyRing.IsOwnedData(request.Path)) || request.Path.StartsWithSegments(DashboardKeyGate.Path))
            return next(context);
        if (keys.MatchHeader(context) >= 0) return next(context);
        var presented = request.Headers[ApiKeyRing.HeaderName];

        counters.Refused(StatusCodes.Status401Unauthorized);
        context.Response.Headers.WWWAuthenticate = ApiKeyRing.Challenge;
        return StringValues.IsNullOrEmpty(presented)
            ? ProblemResponses.WriteAsync(context, StatusCodes.Status401Unauthorized, "API key required",
                IsSafe(request.Method)
                    ? $"Jobs, benchmarks and arrays belong to the API key that created them: send your key in the {ApiKeyRing.HeaderName} header to read yours."
                    : $"{request.Method} requests to this service need an API key: send it in the {ApiKeyRing.HeaderName} header.")
            : ProblemResponses.WriteAsync(context, StatusCodes.Status401Unauthorized, "Invalid API key",
                $"The {ApiKeyRing.HeaderName} header does not hold a valid API key. Send exactly one key, as issued by the operator of this service.");
    }

    /// <summary>True for the methods that never change state (RFC 9110 safe methods).</summary>
    public static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);
}

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
        if (keys.MatchHeader(context) >= 0 || keys.IsDashboardToken(request.Cookies[CookieName]))
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
