using ConvService.Core.Convolution;
using ConvService.Core.Fits;
using ConvService.Jobs;
using ConvService.Model;
using ConvService.Options;
using ConvService.Storage;

namespace ConvService.Http;

/// <summary>
/// FITS on the wire: reading an upload (plain, gzip Content-Encoding, or a .fits.gz body) and the header cards a
/// served array or result carries — the uploaded keywords, the WCS moved for the convolution's crop and stride, and
/// HISTORY cards naming the job.
/// </summary>
public static class FitsContent
{
    /// <summary>True when the request declares a FITS body (application/fits or image/fits).</summary>
    public static bool IsFits(HttpRequest request) =>
        RequestBody.MediaTypeIs(request.ContentType, ArrayFormats.Fits) || RequestBody.MediaTypeIs(request.ContentType, ArrayFormats.FitsImage);

    /// <summary>Reads and decodes a FITS upload within the limits; <paramref name="hdu"/> picks the HDU (index or EXTNAME).</summary>
    public static async Task<FitsImage> ReadAsync(HttpRequest request, LimitsOptions limits, string? hdu, CancellationToken cancellationToken)
    {
        string encoding = request.Headers.ContentEncoding.ToString().Trim();
        if (encoding.Length > 0 && !encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
                $"FITS uploads may be gzip-compressed (Content-Encoding: gzip, or a .fits.gz body), not '{Echo.Clip(encoding, 40)}'. Send it uncompressed or gzipped.");
        var readLimits = new FitsReadLimits(limits.MaxImagePixels, limits.MaxFitsHeaderBytes, limits.MaxInflatedBytes);
        // The header is judged as soon as its first 64 KiB arrive: an image over the pixel limit is refused before its data is read.
        var bytes = await RequestBody.ReadBytesAsync(request, limits.MaxRequestBytes, cancellationToken, prefix => FitsReader.CheckPrefix(prefix, readLimits, hdu));
        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) && !FitsReader.IsGzip(bytes))
            throw RequestRejectedException.BadRequest("The request says Content-Encoding: gzip but the body does not start with the gzip magic number (1f 8b). Send the gzip file, or drop the header.");
        return FitsReader.Read(bytes, readLimits, hdu); // inflates gzip itself, within MaxInflatedBytes
    }

    /// <summary>The cards an array is served with: those it was uploaded with (structural ones are the writer's own).</summary>
    public static async Task<IReadOnlyList<FitsCard>> ForArrayAsync(IArrayHeaderStore headers, string arrayId, CancellationToken cancellationToken) =>
        await headers.TryGetAsync(arrayId, cancellationToken) is { } text
            ? [.. FitsHeader.Parse(text).Cards.Where(c => !FitsWriter.IsStructural(c.Keyword))]
            : [];

    /// <summary>
    /// The cards a job's result is served with: the input image's header with its WCS following the crop and the stride,
    /// then HISTORY cards with the job's parameters.
    /// </summary>
    public static async Task<IReadOnlyList<FitsCard>> ForResultAsync(IArrayHeaderStore headers, ConvolutionJobRecord job, CancellationToken cancellationToken)
    {
        var request = job.Request;
        var cards = new List<FitsCard>();
        string? note = null;
        if (await headers.TryGetAsync(ConvService.Storage.ArrayOwners.Scope(job.Owner, request.Image.ArrayId), cancellationToken) is { } text)
        {
            var options = RequestParsing.ToCoreOptions(request, job.Method);
            int kr = request.Kernel.Shape[0], kc = request.Kernel.Shape[1];
            var geometry = ConvolutionGeometry.Compute(request.Image.Shape[0], request.Image.Shape[1], kr, kc, options);
            if (geometry.Swapped)
            {
                // scipy's valid-mode swap made the kernel the image: the result has no pixel grid of the input's.
                cards.AddRange(FitsHeader.Parse(text).Cards.Where(c => !FitsWriter.IsStructural(c.Keyword)));
                note = "WCS not adjusted: valid mode swapped image and kernel, as scipy does.";
            }
            else
            {
                // Output pixel 0 (before the stride) lies over input pixel origin − (P−1)//2: same mode's centring.
                cards.AddRange(FitsWcs.ForResult(FitsHeader.Parse(text), geometry.OriginY - ((kr - 1) >> 1), geometry.OriginX - ((kc - 1) >> 1),
                    geometry.StrideY, geometry.StrideX));
            }
        }
        foreach (string line in History(job)) cards.AddRange(FitsCards.History(line));
        if (note is not null) cards.AddRange(FitsCards.History(note));
        return cards;
    }

    private static IEnumerable<string> History(ConvolutionJobRecord job)
    {
        var r = job.Request;
        yield return $"ConvService job {job.Id} ({job.FinishedAt:yyyy-MM-ddTHH:mm:ssZ})";
        yield return r.NanTreatment is { } nan
            ? $"astropy.convolution.convolve(image, kernel, boundary='{RequestParsing.Word(r.Boundary)}', fill_value={Number(r.FillValue)}, " +
              $"nan_treatment='{RequestParsing.Word(nan)}', normalize_kernel={(r.NormalizeKernel ?? true ? "True" : "False")}, preserve_nan={(r.PreserveNan ?? false ? "True" : "False")})" +
              $"[::{r.Stride[0]}, ::{r.Stride[1]}]"
            : $"scipy.signal.convolve2d(image, kernel, mode='{RequestParsing.Word(r.Mode)}', boundary='{RequestParsing.Word(r.Boundary)}', fillvalue={Number(r.FillValue)})[::{r.Stride[0]}, ::{r.Stride[1]}]";
        yield return $"image {r.Image.ArrayId} ({r.Image.Shape[0]}x{r.Image.Shape[1]})";
        yield return $"kernel {r.Kernel.ArrayId} ({r.Kernel.Shape[0]}x{r.Kernel.Shape[1]})";
        yield return $"method {RequestParsing.Word(job.Method)}; result {job.Result?.ArrayId}";
    }

    private static string Number(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
