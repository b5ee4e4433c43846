using System.ComponentModel;
using ConvService.Core.Arrays;
using ConvService.Core.Fits;
using ConvService.Core.Imaging;
using ConvService.Core.Npy;
using ConvService.Http;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ConvService.Apis;

/// <summary>Stored arrays: upload once, convolve by id as often as needed.</summary>
public static class ArraysApi
{
    /// <summary>Maps <c>/arrays</c>.</summary>
    public static IEndpointRouteBuilder MapArraysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/arrays").WithTags("Arrays").RequireApiKey(); // owned data: see ApiKeyPolicies
        group.MapPost("/", UploadAsync).WithName("UploadArray")
            .WithSummary("Store an array from JSON {\"data\": [[...]]}, .npy (application/x-npy), FITS (application/fits, .fits or .fits.gz; ?hdu= picks the HDU) or PNG (image/png; colour becomes BT.601 luminance).")
            // Every type the handler reads must be listed: routing answers 415 for the others before the handler runs.
            .Accepts<ArrayUpload>("application/json", ArrayFormats.Npy, "application/npy", ArrayFormats.Fits, ArrayFormats.FitsImage, ArrayFormats.Png)
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(503);
        group.MapGet("/{id}", GetAsync).WithName("GetArray")
            .WithSummary("An array as JSON (default), .npy (Accept: application/x-npy), FITS with its uploaded header (Accept: application/fits) or a PNG preview (Accept: image/png).")
            .ProducesProblem(404).ProducesProblem(406);
        group.MapDelete("/{id}", DeleteAsync).WithName("DeleteArray").WithSummary("Delete an array no queued or running job needs.")
            .ProducesProblem(404).ProducesProblem(409);
        return app;
    }

    /// <summary>Stores an uploaded array; the same content always gets the same id.</summary>
    public static async Task<Created<StoredArrayInfo>> UploadAsync(
        HttpRequest request, [AsParameters] HduQuery query, ApiKeyRing keys, IArrayStore arrays, IArrayHeaderStore headers, IOptions<ConvServiceOptions> options,
        UploadBudget budget, CancellationToken cancellationToken)
    {
        string? owner = keys.OwnerOf(request.HttpContext);
        var limits = options.Value.Limits;
        long maxBytes = limits.MaxImagePixels * sizeof(double);
        Array2D array;
        FitsHeader? fitsHeader = null;
        bool charged = false; // against the client's upload budget (UploadBudget)
        if (query.Hdu is not null && !FitsContent.IsFits(request))
            throw RequestRejectedException.BadRequest($"?hdu= picks an HDU of a FITS upload, but this body is '{request.ContentType ?? "(no content type)"}'. Send Content-Type: application/fits, or drop ?hdu=.");
        if (FitsContent.IsFits(request))
        {
            var image = await FitsContent.ReadAsync(request, limits, query.Hdu, cancellationToken);
            (array, fitsHeader) = (image.Data, image.Header);
        }
        else if (RequestBody.IsJson(request))
        {
            var upload = await RequestBody.ReadJsonAsync<ArrayUpload>(request, Examples.ArrayUpload, cancellationToken);
            array = ConvolutionSubmitter.FromRows(upload.Data ?? [], "$", limits.MaxImagePixels); // "$": messages name '$.data', the body's JSON path
        }
        else if (RequestBody.MediaTypeIs(request.ContentType, ArrayFormats.Npy) || RequestBody.MediaTypeIs(request.ContentType, "application/npy"))
        {
            var bytes = await RequestBody.ReadBytesAsync(request, limits.MaxRequestBytes, cancellationToken,
                prefix => NpyCodec.TryCheckHeader(prefix, maxBytes)); // 413/415/400 from the header, before the data arrives
            array = NpyCodec.Read(bytes, maxBytes);
        }
        else if (RequestBody.MediaTypeIs(request.ContentType, ArrayFormats.Png))
        {
            // IHDR is checked (size limit, then the client's upload budget) as soon as the first bytes arrive: a refused
            // PNG is neither read whole nor inflated.
            var client = ClientNames.Of(request.HttpContext);
            var bytes = await RequestBody.ReadBytesAsync(request, limits.MaxRequestBytes, cancellationToken,
                prefix => budget.Charge(client, PngCodec.CheckHeader(prefix, limits.MaxImagePixels).PixelCount * sizeof(double)));
            charged = true;
            array = PngCodec.Decode(bytes, limits.MaxImagePixels);
        }
        else
        {
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type",
                $"POST /arrays takes application/json ({Examples.ArrayUpload}), {ArrayFormats.Npy}, {ArrayFormats.Fits} (.fits, .fits.gz) or {ArrayFormats.Png}, not '{request.ContentType ?? "(none)"}'.");
        }
        if (array.IsEmpty)
            throw RequestRejectedException.BadRequest($"The array is {array.Rows}×{array.Cols}: send at least one row and one column.");
        if (!charged) budget.Charge(ClientNames.Of(request.HttpContext), array.Length * sizeof(double));
        var info = await arrays.For(owner).PutAsync(array, cancellationToken);
        if (fitsHeader is not null) await headers.PutAsync(ArrayOwners.Scope(owner, info.Id), fitsHeader.Text, cancellationToken); // capped by MaxFitsHeaderBytes on the way in
        return TypedResults.Created($"/arrays/{info.Id}", info);
    }

    /// <summary>Serves an array.</summary>
    public static async Task<ArrayContentResult> GetAsync(
        string id, HttpRequest request, ApiKeyRing keys, IArrayStore store, IArrayHeaderStore headers, IOptions<ConvServiceOptions> options,
        CancellationToken cancellationToken)
    {
        var format = ArrayFormats.Negotiate(request);
        string? owner = keys.OwnerOf(request.HttpContext);
        var arrays = store.For(owner); // another key's array, even of the same content, is not found (see OwnedArrayStore)
        if (!ArrayId.IsWellFormed(id)) throw NotFound(id);
        var info = await arrays.TryGetInfoAsync(id, cancellationToken) ?? throw NotFound(id);
        ArrayFormats.EnsureJsonFits(format, info.Shape, options.Value.Limits.MaxJsonResultValues, "array");
        var array = await arrays.TryGetAsync(id, cancellationToken) ?? throw NotFound(id);
        var cards = format == ArrayFormat.Fits ? await FitsContent.ForArrayAsync(headers, ArrayOwners.Scope(owner, id), cancellationToken) : null;
        return new ArrayContentResult(array, format, info, cards);
    }

    /// <summary>Deletes an array.</summary>
    public static async Task<NoContent> DeleteAsync(string id, HttpContext context, ApiKeyRing keys, IArrayStore arrays, CancellationToken cancellationToken)
    {
        if (!ArrayId.IsWellFormed(id)) throw NotFound(id);
        return await arrays.For(keys.OwnerOf(context)).DeleteAsync(id, cancellationToken) switch
        {
            ArrayDeleteOutcome.Deleted => TypedResults.NoContent(),
            ArrayDeleteOutcome.InUse => throw new RequestRejectedException(StatusCodes.Status409Conflict, "Array in use",
                $"Array {id} is an input of a queued or running job. Cancel the job (DELETE /convolutions/{{id}}) or wait for it to finish."),
            _ => throw NotFound(id),
        };
    }

    private static RequestRejectedException NotFound(string id) => RequestRejectedException.NotFound(
        ArrayId.IsWellFormed(id)
            ? $"No array {id}: it was never uploaded, was deleted, or was evicted (ConvService:Limits:ArrayStoreBytes). Upload it again with POST /arrays."
            : $"No array '{Echo.Clip(id, 80)}': array ids are 64 lowercase hex digits (SHA-256), as returned by POST /arrays.");
}

/// <summary>JSON body of <c>POST /arrays</c>.</summary>
/// <param name="Data">Rows of numbers, all the same length.</param>
public sealed record ArrayUpload(double[][]? Data);

/// <summary>Query of <c>POST /arrays</c>.</summary>
/// <param name="Hdu">For FITS: the HDU to read, by index (0 = primary) or EXTNAME; default the primary HDU, or the first image extension when the primary has no data.</param>
public sealed record HduQuery(
    [property: FromQuery(Name = "hdu"), Description("FITS only: HDU index (0 = primary) or EXTNAME. Default: the primary HDU, else the first IMAGE extension.")] string? Hdu);
