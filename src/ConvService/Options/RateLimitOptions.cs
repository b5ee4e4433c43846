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
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>Bucket size: how many requests a client that has been quiet may send at once.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 100;
}
