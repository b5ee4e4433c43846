using System.Reflection;
using ConvService.Core.Arrays;
using ConvService.Core.Npy;
using Microsoft.AspNetCore.Http.Metadata;

namespace ConvService.Http;

/// <summary>
/// Several arrays of one shape (a filter bank's results) as one .npy file of shape (count, rows, cols), streamed array by
/// array: <c>numpy.load(...)[k]</c> is the k-th result.
/// </summary>
public sealed class NpyStackResult(IReadOnlyList<Array2D> arrays, string fileName) : IResult, IEndpointMetadataProvider
{
    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = ArrayFormats.Npy;
        response.ContentLength = NpyCodec.EncodedStackLength(arrays);
        response.Headers.ContentDisposition = "attachment; filename=\"" + fileName + ".npy\"";
        await NpyCodec.WriteStackAsync(response.Body, arrays, httpContext.RequestAborted);
    }

    /// <inheritdoc />
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(byte[]), [ArrayFormats.Npy]));
}
