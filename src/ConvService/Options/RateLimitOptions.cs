using System.ComponentModel.DataAnnotations;

namespace ConvService.Options;

/// <summary>
/// The <c>ConvService:RateLimits</c> section: one token bucket per API key (when a valid key is sent) or per client IP.
/// Off by default: a load test's clients on localhost all share one IP, and a node normally sits behind a gateway
/// that owns per-tenant quotas. Turn it on where clients reach the service directly.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Whether requests are rate limited at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Tokens added to each client's bucket every second: its sustained request rate.</summary>
    [ConfigRange(1, 1_000_000, ErrorMessage = "ConvService:RateLimits:PermitsPerSecond must be between {1} and {2}.")]
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>Bucket size: how many requests a client that has been quiet may send at once.</summary>
    [ConfigRange(1, 1_000_000, ErrorMessage = "ConvService:RateLimits:Burst must be between {1} and {2}.")]
    public int Burst { get; set; } = 100;
}
