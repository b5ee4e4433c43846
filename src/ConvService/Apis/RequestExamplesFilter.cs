using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ConvService.Apis;

/// <summary>Puts example request bodies on the operations that take JSON.</summary>
public sealed class RequestExamplesFilter : IOperationFilter
{
    private static readonly FrozenDictionary<string, (string Name, string Summary, string Json)[]> ExamplesByOperation = new Dictionary<string, (string Name, string Summary, string Json)[]>
    {
        ["SubmitConvolution"] =
        [
            ("small", "A 3×3 image and a 2×2 kernel, same mode", Examples.SmallConvolution),
            ("tutorial", "The IRSA tutorial's case: 3000×3000 ⊛ 4×4 normal filter, full, [::5, ::5]", Examples.TutorialConvolution),
            ("nanAware", "astropy.convolution.convolve semantics: NaN pixels (upload them as .npy or FITS, by arrayId) are interpolated from their neighbours", Examples.NanAwareConvolution),
            ("filterBank", "A filter bank: four 4×4 filters over the tutorial's image in one pass, one result each", Examples.FilterBank),
            ("correlate", "Template matching with scipy.signal.correlate2d semantics", Examples.Correlation),
        ],
        ["SubmitBenchmark"] =
        [
            ("tutorial", "The IRSA tutorial's experiment: every default (an empty body does the same)", "{}"),
            ("explicit", "The same defaults written out", Examples.TutorialBenchmark),
            ("quick", "The tutorial's case with 20 iterations", """{"iterations": 20}"""),
        ],
        ["UploadArray"] = [("json", "A 2×2 array as JSON rows", Examples.ArrayUpload)],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <inheritdoc />
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.OperationId is null || !ExamplesByOperation.TryGetValue(operation.OperationId, out var examples)) return;
        if (operation.RequestBody?.Content is null || !operation.RequestBody.Content.TryGetValue("application/json", out var media)) return;
        if (media is not OpenApiMediaType concrete) return;
        concrete.Examples ??= new Dictionary<string, IOpenApiExample>();
        foreach (var (name, summary, json) in examples)
            concrete.Examples[name] = new OpenApiExample { Summary = summary, Value = JsonNode.Parse(json) };
    }
}
