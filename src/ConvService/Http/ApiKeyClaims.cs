using System.Globalization;
using System.Security.Claims;

namespace ConvService.Http;

/// <summary>The claims the ApiKey authentication handler puts on a request that sent a valid key.</summary>
public static class ApiKeyClaims
{
    /// <summary>The key's owner id (<see cref="ApiKeyRing.OwnerId"/>): whose jobs, benchmarks and arrays the request sees.</summary>
    public const string Owner = "convservice:owner";

    /// <summary>
    /// The key's index in <c>ConvService:ApiKeys</c>: names the client for per-client budgets (rate limits, upload
    /// bytes) without keeping a secret in their dictionaries.
    /// </summary>
    public const string KeyIndex = "convservice:key-index";

    /// <summary>The principal's key index, or -1 when it was not authenticated by a key.</summary>
    public static int KeyIndexOf(ClaimsPrincipal user) =>
        user.FindFirst(KeyIndex)?.Value is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : -1;

    /// <summary>The principal for key <paramref name="index"/> with owner id <paramref name="owner"/>.</summary>
    public static ClaimsPrincipal Principal(int index, string owner, string scheme) =>
        new(new ClaimsIdentity(
            [new Claim(Owner, owner), new Claim(KeyIndex, index.ToString(CultureInfo.InvariantCulture))],
            authenticationType: scheme));
}
