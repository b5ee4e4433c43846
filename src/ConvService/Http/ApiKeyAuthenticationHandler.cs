using System.Text.Encodings.Web;
using ConvService.Observability;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace ConvService.Http;

/// <summary>
/// Options of the <see cref="ApiKeyAuthenticationHandler.SchemeName"/> scheme. It has no settings of its own: the keys are
/// <c>ConvService:ApiKeys</c>, held by <see cref="ApiKeyRing"/>, which the rate limiter and the dashboard gate share.
/// </summary>
public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>
/// Authenticates a request by the one <c>X-Api-Key</c> header it sends (nothing else is accepted: no query string, no
/// Bearer token; the dashboard's <c>?apiKey=</c> and cookie are <see cref="DashboardKeyGate"/>'s own). A valid key
/// gives a principal with the key's owner id and index (<see cref="ApiKeyClaims"/>); no header is no result (the
/// request stays anonymous); a wrong key, or two headers, is a failure. Whether a request needs a key is the
/// authorization policies' business (<see cref="ApiKeyPolicies"/>): this handler only says who is asking and writes
/// the refusals as the problem+json the service has always sent.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys, RefusalMetrics counters)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[ApiKeyRing.HeaderName];
        if (!keys.Enabled || StringValues.IsNullOrEmpty(presented)) return Task.FromResult(AuthenticateResult.NoResult());
        int index = keys.Match(presented);
        // The failure's text stays in the log at debug level; the client's answer is written by HandleChallengeAsync.
        return Task.FromResult(index < 0
            ? AuthenticateResult.Fail("The X-Api-Key header does not hold exactly one configured key.")
            : AuthenticateResult.Success(new AuthenticationTicket(ApiKeyClaims.Principal(index, keys.OwnerId(index), Scheme.Name), Scheme.Name)));
    }

    /// <summary>401 problem+json with the <c>WWW-Authenticate: ApiKey header="X-Api-Key"</c> challenge, as before the handler existed.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        counters.Refused(StatusCodes.Status401Unauthorized);
        Response.Headers.WWWAuthenticate = ApiKeyRing.Challenge;
        return StringValues.IsNullOrEmpty(Request.Headers[ApiKeyRing.HeaderName])
            ? ProblemResponses.WriteAsync(Context, StatusCodes.Status401Unauthorized, "API key required",
                HttpMethodSafety.IsSafe(Request.Method)
                    ? $"Jobs, benchmarks and arrays belong to the API key that created them: send your key in the {ApiKeyRing.HeaderName} header to read yours."
                    : $"{Request.Method} requests to this service need an API key: send it in the {ApiKeyRing.HeaderName} header.")
            : ProblemResponses.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Invalid API key",
                $"The {ApiKeyRing.HeaderName} header does not hold a valid API key. Send exactly one key, as issued by the operator of this service.");
    }

    /// <summary>
    /// 403 problem+json. No policy of this service refuses a request that sent a valid key (every key may do
    /// everything to its own data), so this only answers should a later policy do so.
    /// </summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        counters.Refused(StatusCodes.Status403Forbidden);
        return ProblemResponses.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
            "This API key is not allowed to make this request.");
    }
}
