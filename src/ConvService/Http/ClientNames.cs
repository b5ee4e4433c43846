namespace ConvService.Http;

/// <summary>Who a request is from, for per-client budgets (the rate limiter's partitions, the upload budget).</summary>
public static class ClientNames
{
    /// <summary>
    /// Its API key's index when it sends a valid key, else its IP. The key's index, not the key, names the client: no
    /// secret is kept in a limiter's dictionary.
    /// </summary>
    public static string Of(HttpContext context)
    {
        int keyIndex = ApiKeyClaims.KeyIndexOf(context.User); // authentication runs first and leaves the key's index as a claim
        return keyIndex >= 0 ? "key:" + keyIndex : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }
}
