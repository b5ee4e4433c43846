using System.Security.Cryptography;
using System.Text;
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
    public const int MaxKeyLength = ApiKeysValidator.MaxKeyLength;

    private static ReadOnlySpan<byte> DashboardTokenPurpose => "convservice-dashboard-cookie-v1"u8;

    private static ReadOnlySpan<byte> OwnerPurpose => "convservice-owner-v1"u8;

    /// <summary>
    /// The owner of what a caller without a valid key could reach when keys are on. The ApiKey policies refuse such
    /// callers on every owned route before they get there (<see cref="ApiKeyPolicies"/>); should one slip through, it sees this empty namespace, never all data.
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
    /// everything is everyone's, as before keys existed), else the owner id the ApiKey authentication handler put on
    /// the request's principal (<see cref="ApiKeyClaims.Owner"/>), or <see cref="NoKeyOwner"/> without a valid key.
    /// </summary>
    public string? OwnerOf(HttpContext context) => !Enabled ? null : context.User.FindFirst(ApiKeyClaims.Owner)?.Value ?? NoKeyOwner;

    /// <summary>The owner id of key <paramref name="index"/>: what records and scoped array ids carry instead of the key.</summary>
    public string OwnerId(int index) => _owners[index];

    /// <summary>True when at least one key is configured (mutating endpoints and owned data then need one).</summary>
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
