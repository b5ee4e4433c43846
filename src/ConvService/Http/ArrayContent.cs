using System.Reflection;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Fits;
using ConvService.Core.Imaging;
using ConvService.Core.Npy;
using ConvService.Storage;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace ConvService.Http;

/// <summary>The representations an array can be served in.</summary>
public enum ArrayFormat
{
    /// <summary>application/json: nested rows.</summary>
    Json,
    /// <summary>application/x-npy: little-endian float64, C order, .npy v1.0.</summary>
    Npy,
    /// <summary>image/png: min–max normalised 8-bit grayscale preview.</summary>
    Png,
    /// <summary>application/fits: one image HDU, BITPIX −64, with the input image's header cards where known.</summary>
    Fits,
}

/// <summary>Content negotiation and media types for arrays.</summary>
public static class ArrayFormats
{
    /// <summary>The .npy media type.</summary>
    public const string Npy = "application/x-npy";
    /// <summary>PNG.</summary>
    public const string Png = "image/png";
    /// <summary>JSON.</summary>
    public const string Json = "application/json";
    /// <summary>FITS, the registered type (RFC 4047).</summary>
    public const string Fits = FitsFormat.MediaType;
    /// <summary>FITS, the image type RFC 4047 registers too.</summary>
    public const string FitsImage = FitsFormat.ImageMediaType;

    /// <summary>Picks the representation from the Accept header (JSON when absent or */*); 406 when nothing fits.</summary>
    public static ArrayFormat Negotiate(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0) return ArrayFormat.Json;
        ArrayFormat? best = null;
        double bestQuality = 0;
        foreach (var value in accept)
        {
            double quality = value.Quality ?? 1.0;
            if (quality <= 0 || (best is not null && quality <= bestQuality)) continue;
            ArrayFormat? format = value.MediaType.Value?.ToLowerInvariant() switch
            {
                Json or "application/*" or "*/*" or "text/json" => ArrayFormat.Json,
                Npy or "application/npy" or "application/octet-stream" => ArrayFormat.Npy,
                Png or "image/*" => ArrayFormat.Png,
                Fits or FitsImage => ArrayFormat.Fits,
                _ => null,
            };
            if (format is null) continue;
            best = format;
            bestQuality = quality;
        }
        return best ?? throw new RequestRejectedException(StatusCodes.Status406NotAcceptable, "Not acceptable",
            $"Arrays are served as {Json}, {Npy}, {Fits} or {Png}; the Accept header '{request.Headers.Accept}' allows none of them.");
    }

    /// <summary>
    /// Refuses (406) a JSON answer for an array of <paramref name="shape"/> over <paramref name="limit"/> values. Checked from
    /// the shape, before the data is fetched from the store.
    /// </summary>
    /// <param name="format">The negotiated format.</param>
    /// <param name="shape">[rows, cols].</param>
    /// <param name="limit">ConvService:Limits:MaxJsonResultValues.</param>
    /// <param name="what">"array" or "result", for the message.</param>
    public static void EnsureJsonFits(ArrayFormat format, int[] shape, long limit, string what)
    {
        long values = (long)shape[0] * shape[1];
        if (format != ArrayFormat.Json || values <= limit) return;
        throw new RequestRejectedException(StatusCodes.Status406NotAcceptable, $"{char.ToUpperInvariant(what[0])}{what[1..]} too large for JSON",
            $"The {what} has {values:N0} values, over the JSON limit of {limit:N0} (ConvService:Limits:MaxJsonResultValues). Ask for Accept: application/x-npy.");
    }
}

/// <summary>
/// Writes an array as JSON rows (streamed, so a large result never exists twice as text), .npy or a PNG preview.
/// Non-finite values, which JSON cannot carry, are written as null; fetch .npy for exact data. FITS carries
/// <paramref name="fitsCards"/> (an input image's keywords, HISTORY) after its own structural cards.
/// </summary>
public sealed class ArrayContentResult(Array2D array, ArrayFormat format, StoredArrayInfo? info = null, IReadOnlyList<FitsCard>? fitsCards = null)
    : IResult, IEndpointMetadataProvider
{
    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var ct = httpContext.RequestAborted;
        switch (format)
        {
            case ArrayFormat.Npy:
                response.ContentType = ArrayFormats.Npy;
                response.ContentLength = NpyCodec.EncodedLength(array);
                response.Headers.ContentDisposition = "attachment; filename=\"" + (info?.Id ?? "result") + ".npy\"";
                await NpyCodec.WriteAsync(response.Body, array, ct); // straight from the array: no second copy of a large result
                return;
            case ArrayFormat.Fits:
                response.ContentType = ArrayFormats.Fits;
                response.ContentLength = FitsWriter.EncodedLength(array, fitsCards);
                response.Headers.ContentDisposition = "attachment; filename=\"" + (info?.Id ?? "result") + ".fits\"";
                await FitsWriter.WriteAsync(response.Body, array, fitsCards, ct);
                return;
            case ArrayFormat.Png:
                response.ContentType = ArrayFormats.Png;
                var png = PngCodec.EncodePreview(array);
                response.ContentLength = png.Length;
                await response.Body.WriteAsync(png, ct);
                return;
            default:
                response.ContentType = "application/json; charset=utf-8";
                await WriteJsonAsync(response.Body, ct);
                return;
        }
    }

    private async Task WriteJsonAsync(Stream body, CancellationToken ct)
    {
        await using var writer = new Utf8JsonWriter(body);
        if (info is not null)
        {
            writer.WriteStartObject();
            writer.WriteString("id", info.Id);
            writer.WriteStartArray("shape");
            writer.WriteNumberValue(array.Rows);
            writer.WriteNumberValue(array.Cols);
            writer.WriteEndArray();
            writer.WriteString("dtype", info.Dtype);
            writer.WriteNumber("bytes", info.Bytes);
            if (info.Sha256 is null) writer.WriteNull("sha256"); else writer.WriteString("sha256", info.Sha256);
            if (info.Checksum is null) writer.WriteNull("checksum"); else writer.WriteString("checksum", info.Checksum);
            writer.WritePropertyName("data");
        }
        writer.WriteStartArray();
        for (int i = 0; i < array.Rows; i++)
        {
            writer.WriteStartArray();
            foreach (double v in array.Row(i)) FiniteDoubleConverter.WriteValue(writer, v);
            writer.WriteEndArray();
            if (writer.BytesPending > 1 << 16) await writer.FlushAsync(ct);
        }
        writer.WriteEndArray();
        if (info is not null) writer.WriteEndObject();
        await writer.FlushAsync(ct);
    }

    /// <inheritdoc />
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(double[][]), [ArrayFormats.Json, ArrayFormats.Npy, ArrayFormats.Fits, ArrayFormats.Png]));
    }
}
