using System.Threading.RateLimiting;
using ConvService.Http;
using ConvService.Observability;
using ConvService.Options;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ConvService.Extensions;

/// <summary>API keys, per-client rate limits and the remote dashboard's key gate (see docs/operations.md).</summary>
public static class SecurityExtensions
{
    /// <summary>Registers the key ring, the option checks and the rate limiter.</summary>
    public static WebApplicationBuilder AddConvServiceSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ApiKeyRing>();
        // A writable dashboard's pages carry an antiforgery token (Hangfire emits it when IAntiforgery is registered);
        // DashboardWriteGuard requires it on every change, so a cross-site form POST is refused.
        services.AddAntiforgery();
        services.AddSingleton<IValidateOptions<ConvServiceOptions>, SecurityOptionsValidator>();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ClientPartition);
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests; // the default is 503
            limiter.OnRejected = OnRejectedAsync;
        });
        return builder;
    }

    /// <summary>
    /// Adds, in this order, the rate limiter (when enabled), the API-key check for mutating requests and, for a remote
    /// dashboard with keys configured, the dashboard's key gate. Call inside the exception handler and before
    /// <c>UseHangfireDashboard</c>.
    /// </summary>
    public static WebApplication UseConvServiceSecurity(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ConvServiceOptions>>().Value;
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecurityExtensions).FullName!);

        // The limiter runs before the key check, so guessing keys costs a client its own budget.
        if (options.RateLimits.Enabled) app.UseRateLimiter();
        app.UseMiddleware<ApiKeyMiddleware>();
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
    /// Who a request is from, for per-client budgets: its API key's index when it sends a valid key, else its IP. The
    /// key's index, not the key, names the client: no secret is kept in a limiter's dictionary.
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

/// <summary>Start-up checks for the API keys and rate limits (DataAnnotations do not reach into arrays or nested objects).</summary>
internal sealed class SecurityOptionsValidator : IValidateOptions<ConvServiceOptions>
{
    /// <summary>Shortest key accepted: 16 random characters are beyond guessing even without the rate limiter.</summary>
    public const int MinKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, ConvServiceOptions options)
    {
        var errors = new List<string>();
        var keys = options.ApiKeys ?? [];
        for (int i = 0; i < keys.Length; i++)
        {
            // Never echo a key into the error: start-up failures end up in logs.
            string key = keys[i] ?? "";
            if (key.Length < MinKeyLength || key.Length > ApiKeyRing.MaxKeyLength)
                errors.Add($"ConvService:ApiKeys:{i} must be {MinKeyLength} to {ApiKeyRing.MaxKeyLength} characters long (it has {key.Length}).");
            else if (key.Any(c => c is < '!' or > '~'))
                errors.Add($"ConvService:ApiKeys:{i} must be printable ASCII without spaces, so it fits an HTTP header unchanged.");
        }
        DataAnnotationChecks.Collect(options.RateLimits ?? new RateLimitOptions(), "ConvService:RateLimits", errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
