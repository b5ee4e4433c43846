using System.Threading.RateLimiting;
using ConvService.Http;
using ConvService.Observability;
using ConvService.Options;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ConvService.Extensions;

/// <summary>
/// API keys (an authentication scheme and authorization policies), per-client rate limits and the remote dashboard's
/// key gate (see docs/operations.md).
/// </summary>
public static class SecurityExtensions
{
    /// <summary>Registers the key ring, the ApiKey scheme and policies, the key checks at start-up and the rate limiter.</summary>
    public static WebApplicationBuilder AddConvServiceSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ApiKeyRing>();
        // A writable dashboard's pages carry an antiforgery token (Hangfire emits it when IAntiforgery is registered);
        // DashboardWriteGuard requires it on every change, so a cross-site form POST is refused.
        services.AddAntiforgery();
        services.AddSingleton<IValidateOptions<ConvServiceOptions>, ApiKeysValidator>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddApiKeyAuthorization();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ClientPartition);
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests; // the default is 503
            limiter.OnRejected = OnRejectedAsync;
        });
        return builder;
    }

    /// <summary>
    /// Adds, in this order, authentication (who sent which key), the rate limiter (when enabled), authorization (the
    /// endpoints' ApiKey policies and the fallback policy) and, for a remote dashboard with keys configured, the
    /// dashboard's key gate. Call inside the exception handler and before <c>UseHangfireDashboard</c>.
    /// </summary>
    public static WebApplication UseConvServiceSecurity(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ConvServiceOptions>>().Value;
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecurityExtensions).FullName!);

        // Called here, not left to WebApplication (which would add both at the very start of the pipeline): authentication
        // only names the key and refuses nothing, so the limiter can budget per key; the limiter runs before the refusals,
        // so guessing keys costs a client its own budget.
        app.UseAuthentication();
        if (options.RateLimits.Enabled) app.UseRateLimiter();
        app.UseAuthorization();
        if (options.DashboardAllowRemote && keys.Enabled)
            app.UseWhen(context => context.Request.Path.StartsWithSegments(DashboardKeyGate.Path), gated => gated.UseMiddleware<DashboardKeyGate>());
        app.UseWhen(context => context.Request.Path.StartsWithSegments(DashboardKeyGate.Path), guarded => guarded.UseMiddleware<DashboardWriteGuard>());

        if (!keys.Enabled)
            logger.LogInformation("No ConvService:ApiKeys configured: POST, PUT, PATCH and DELETE are open to every client.");
        if (options.DashboardAllowRemote && !keys.Enabled)
            logger.LogWarning("ConvService:DashboardAllowRemote is on without ConvService:ApiKeys: the read-only Hangfire dashboard is open to every client.");
        return app;
    }

    /// <summary>
    /// One token bucket per client: per API key when the request carries a valid one (so clients behind one NAT or
    /// proxy each get their own budget), else per remote IP. An invalid key counts against the IP: inventing keys
    /// must not buy fresh buckets. Probes and scrapes (/health, /metrics) and the Swagger UI's assets are exempt.
    /// </summary>
    private static RateLimitPartition<string> ClientPartition(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics") || path.StartsWithSegments("/swagger"))
            return RateLimitPartition.GetNoLimiter("exempt");

        var services = context.RequestServices;
        var limits = services.GetRequiredService<IOptions<ConvServiceOptions>>().Value.RateLimits;
        return RateLimitPartition.GetTokenBucketLimiter(ClientName(context), _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.Burst,
            TokensPerPeriod = limits.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0, // refuse at once with Retry-After rather than hold connections open
            AutoReplenishment = true,
        });
    }

    /// <summary>
    /// Who a request is from, for per-client budgets: its API key's index when it sent a valid key (the claim the ApiKey
    /// handler set), else its IP. The key's index, not the key, names the client: no secret is kept in a limiter's dictionary.
    /// </summary>
    public static string ClientName(HttpContext context) => ClientNames.Of(context); // in Http/: the arrays API needs it too

    /// <summary>How often PartitionedRateLimiter replenishes its token buckets (its internal timer).</summary>
    private static readonly TimeSpan ReplenishmentTimerGranularity = TimeSpan.FromMilliseconds(100);

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var limits = context.RequestServices.GetRequiredService<IOptions<ConvServiceOptions>>().Value.RateLimits;
        // The token bucket says when the next token is due (one period as the fallback). A partitioned limiter tops its
        // buckets up from a 100 ms timer, so the token can land up to that much later: a client that waits exactly the
        // advertised time must find it there (the tests caught "Retry-After: 1" answered by another 429).
        var due = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan wait) ? wait : TimeSpan.FromSeconds(1);
        var retryAfter = due + ReplenishmentTimerGranularity;
        context.RequestServices.GetRequiredService<RefusalMetrics>().Refused(StatusCodes.Status429TooManyRequests);
        await ProblemResponses.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"This client has used its request budget ({limits.PermitsPerSecond} a second, bursts of {limits.Burst}; ConvService:RateLimits). " +
            "Retry after the number of seconds in the Retry-After header.", retryAfter);
    }
}
