using System.Text.Json;
using ConvService.Options;
using Microsoft.Extensions.Options;

namespace ConvService.Http;

/// <summary>
/// <see cref="RequestBody.StrictJson"/> with inline arrays (<c>double[][]</c>) counted as they are read against this
/// host's largest array limit (<see cref="JsonRowsConverter"/>). One instance per host (a singleton, not a static cache
/// keyed by limit): System.Text.Json caches its metadata per options instance, so it is built once.
/// </summary>
public sealed class RequestJsonOptions(IOptions<ConvServiceOptions> options)
{
    /// <summary>The options request bodies are read with.</summary>
    public JsonSerializerOptions Options { get; } = RequestBody.ReadOnly(new JsonSerializerOptions(RequestBody.StrictJson)
    {
        Converters = { new JsonRowsConverter(Math.Max(options.Value.Limits.MaxImagePixels, options.Value.Limits.MaxKernelPixels)) },
    });
}
