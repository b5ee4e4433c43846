using System.Text.Json;
using System.Text.Json.Serialization;
using ConvService.Model;
using ConvService.Options;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ConvService.Http;

/// <summary>Reads request bodies strictly and within the configured size limit.</summary>
public static class RequestBody
{
    /// <summary>
    /// Strict options for request bodies: unknown members, numbers in strings, duplicate keys and deep nesting are
    /// refused, so a typo like "stide" is an error instead of a silently ignored option.
    /// </summary>
    public static readonly JsonSerializerOptions StrictJson = ReadOnly(new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        AllowDuplicateProperties = false,
        MaxDepth = 16,
        RespectNullableAnnotations = false,
        // 1e400 parses to Infinity, which no computation wants and no JSON response can carry back (a 500 later).
        Converters = { new FiniteDoubleConverter() },
    });

    /// <summary>Freezes <paramref name="options"/>: a shared instance nobody can change after start.</summary>
    internal static JsonSerializerOptions ReadOnly(JsonSerializerOptions options)
    {
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>True when the request says it carries JSON.</summary>
    public static bool IsJson(HttpRequest request) =>
        request.ContentType is { } type && (MediaTypeIs(type, "application/json") || BaseType(type).EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>True when the content type's media type (ignoring parameters) is <paramref name="mediaType"/>.</summary>
    public static bool MediaTypeIs(string? contentType, string mediaType) =>
        contentType is not null && BaseType(contentType).Equals(mediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Deserializes a JSON body into <typeparamref name="T"/>; 415 for other content types, 400 when empty.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, string example, CancellationToken cancellationToken) where T : class
    {
        if (!IsJson(request))
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"This endpoint takes application/json, not '{request.ContentType ?? "(none)"}'. Send Content-Type: application/json with a body like {example}.");
        // The reader decodes UTF-8 only; a body declared as UTF-16 or Latin-1 would otherwise fail with a baffling
        // "'0x00' is an invalid start" (or, for ASCII-only Latin-1, silently pass): say what encoding to send.
        if (Charset(request.ContentType!) is { } charset && !IsUtf8Compatible(charset))
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported charset",
                $"JSON bodies must be UTF-8 (RFC 8259), not charset '{Echo.Clip(charset, 40)}'. Re-encode the body as UTF-8 and send Content-Type: application/json (or application/json; charset=utf-8).");
        T? value;
        try
        {
            // The body is read first (within MaxRequestBytes, as it arrives) and parsed from memory: streaming
            // deserialization reads a custom converter's whole value ahead into a buffer that doubles as it goes, so a
            // 128 MiB array cost ~384 MiB of buffers before JsonRowsConverter could count a value.
            var limits = request.HttpContext.RequestServices.GetService<IOptions<ConvServiceOptions>>()?.Value.Limits;
            var body = await ReadBytesAsync(request, limits?.MaxRequestBytes ?? long.MaxValue, cancellationToken);
            // A UTF-8 byte-order mark is skipped, as the streaming reader did (the span reader refuses it).
            value = JsonSerializer.Deserialize<T>(body.AsSpan(body.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0), request.HttpContext.RequestServices.GetService<RequestJsonOptions>()?.Options ?? StrictJson);
        }
        // Whitespace-only bodies (and a lone byte-order mark) are empty too, whatever position the reader stopped at.
        catch (JsonException e) when (e.Path is "$" && e.Message.Contains("input does not contain any JSON tokens", StringComparison.Ordinal))
        {
            throw RequestRejectedException.BadRequest($"The request body is empty. Send a JSON object like {example}.");
        }
        return value ?? throw RequestRejectedException.BadRequest($"The request body is JSON null. Send a JSON object like {example}.");
    }

    /// <summary>
    /// Reads the whole body as bytes, refusing more than <paramref name="maxBytes"/>. Memory follows the bytes that
    /// have arrived, never the Content-Length a client declares: the buffer starts at 64 KiB and doubles as data
    /// comes, so eight slow clients each declaring 128 MiB hold kilobytes, not a gigabyte, while they trickle.
    /// </summary>
    /// <remarks>
    /// <paramref name="checkPrefix"/>, when given, sees the first 64 KiB (or the whole body if shorter) as soon as they
    /// have arrived, and may throw: a file's header (.npy, PNG) is refused before the rest of a large body is read.
    /// </remarks>
    public static async Task<byte[]> ReadBytesAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken, PrefixCheck? checkPrefix = null)
    {
        long? declared = request.ContentLength;
        if (declared > maxBytes) throw TooLarge(maxBytes);
        long limit = declared ?? maxBytes;
        var buffer = new byte[(int)Math.Clamp(limit, 1, InitialBufferBytes)];
        long filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled >= limit)
                {
                    // Full at the limit: a declared length is complete; an undeclared body must end here.
                    if (declared is not null || await request.Body.ReadAsync(new byte[1], cancellationToken) == 0) break;
                    throw TooLarge(maxBytes);
                }
                Array.Resize(ref buffer, (int)Math.Min(limit, Math.Max(2L * buffer.Length, InitialBufferBytes)));
            }
            int read = await request.Body.ReadAsync(buffer.AsMemory((int)filled), cancellationToken);
            if (read == 0) break;
            filled += read;
            if (checkPrefix is not null && filled >= Math.Min(limit, InitialBufferBytes))
            {
                checkPrefix(buffer.AsSpan(0, (int)filled));
                checkPrefix = null;
            }
        }
        checkPrefix?.Invoke(buffer.AsSpan(0, (int)filled)); // a body shorter than it declared, or empty
        if (declared is { } length && filled < length)
            // Kestrel refuses such a body itself; other servers (and test hosts) end the stream early instead.
            throw RequestRejectedException.BadRequest(
                $"The request body ended before the {length:N0} bytes its Content-Length declares: send the complete body with a Content-Length that matches it.");
        if (filled < buffer.Length) Array.Resize(ref buffer, (int)filled);
        return buffer;
    }

    private const int InitialBufferBytes = 64 * 1024;

    /// <summary>Checks the first bytes of a body (see <see cref="ReadBytesAsync"/>); throws to refuse it.</summary>
    public delegate void PrefixCheck(ReadOnlySpan<byte> prefix);

    /// <summary>The 413 problem for a body over the limit.</summary>
    public static RequestRejectedException TooLarge(long maxBytes) => RequestRejectedException.TooLarge(
        $"The request body is larger than {maxBytes:N0} bytes (ConvService:Limits:MaxRequestBytes). " +
        "Send a smaller array, use .npy (8 bytes a value) instead of JSON, or reference a generated input.");

    /// <summary>
    /// The one place the body-size limit is set for the server: refuses a body whose declared length exceeds it
    /// before a byte is read, and sets Kestrel's per-request limit to it, so chunked bodies stop there too (Kestrel
    /// throws, and the problem handler answers 413). <see cref="ReadBytesAsync"/> still bounds its own buffer, for
    /// hosts without that feature.
    /// </summary>
    public static IApplicationBuilder UseRequestSizeLimit(this IApplicationBuilder app, long maxBytes) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = maxBytes;
        await next(context);
    });

    private static string? Charset(string contentType)
    {
        foreach (var part in contentType.Split(';').Skip(1))
        {
            int eq = part.IndexOf('=');
            if (eq > 0 && part[..eq].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase))
                return part[(eq + 1)..].Trim().Trim('"');
        }
        return null;
    }

    private static bool IsUtf8Compatible(string charset) =>
        charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
        || charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase); // ASCII is a subset of UTF-8


    private static string BaseType(string contentType)
    {
        int semicolon = contentType.IndexOf(';');
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
    }
}
