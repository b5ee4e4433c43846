using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;

namespace ConvService.Http;

/// <summary>Reads request bodies strictly and within the configured size limit.</summary>
public static class RequestBody
{
    /// <summary>
    /// Strict options for request bodies: unknown members, numbers in strings, duplicate keys and deep nesting are
    /// refused, so a typo like "stide" is an error instead of a silently ignored option.
    /// </summary>
    public static readonly JsonSerializerOptions StrictJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        AllowDuplicateProperties = false,
        MaxDepth = 16,
        RespectNullableAnnotations = false,
    };

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
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync<T>(request.Body, StrictJson, cancellationToken);
        }
        catch (JsonException e) when (e.Path is "$" && e.BytePositionInLine is 0 or null && e.LineNumber is 0 or null && e.Message.Contains("input does not contain any JSON tokens", StringComparison.Ordinal))
        {
            throw RequestRejectedException.BadRequest($"The request body is empty. Send a JSON object like {example}.");
        }
        return value ?? throw RequestRejectedException.BadRequest($"The request body is JSON null. Send a JSON object like {example}.");
    }

    /// <summary>Reads the whole body as bytes, refusing more than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]> ReadBytesAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared)
        {
            if (declared > maxBytes) throw TooLarge(maxBytes);
            var buffer = new byte[declared];
            await request.Body.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer;
        }
        using var copy = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (copy.Length + read > maxBytes) throw TooLarge(maxBytes);
            copy.Write(chunk, 0, read);
        }
        return copy.ToArray();
    }

    /// <summary>The 413 problem for a body over the limit.</summary>
    public static RequestRejectedException TooLarge(long maxBytes) => RequestRejectedException.TooLarge(
        $"The request body is larger than {maxBytes:N0} bytes (ConvService:Limits:MaxRequestBytes). " +
        "Send a smaller array, use .npy (8 bytes a value) instead of JSON, or reference a generated input.");

    /// <summary>
    /// Refuses a body whose declared length exceeds the limit before a byte of it is read, and caps
    /// chunked bodies at the same limit (Kestrel stops reading there).
    /// </summary>
    public static IApplicationBuilder UseRequestSizeLimit(this IApplicationBuilder app, long maxBytes) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = maxBytes;
        await next(context);
    });

    private static string BaseType(string contentType)
    {
        int semicolon = contentType.IndexOf(';');
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
    }
}
