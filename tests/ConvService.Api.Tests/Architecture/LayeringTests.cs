namespace ConvService.Api.Tests.Architecture;

/// <summary>
/// The host's folders are its layers and its dependencies point one way (docs/architecture.md):
/// Apis → Http → Benchmarks → Jobs → Observability → Storage → Model; Options from anywhere; Extensions and Program
/// (the composition root) anywhere. Storage's abstractions never name an implementation (Storage.Postgres).
/// </summary>
public sealed class LayeringTests
{
    private static readonly string[] Bottom = ["Model", "Options"];

    /// <summary>The host's rules: each layer and what it may refer to.</summary>
    public static readonly LayerRules Host = new(HostLayer, new Dictionary<string, string[]>
    {
        ["Composition"] = ["Apis", "Http", "Benchmarks", "Jobs", "Observability", "Storage", "Storage.Postgres", "Model", "Options"],
        ["Apis"] = ["Http", "Benchmarks", "Jobs", "Observability", "Storage", .. Bottom],
        // The HTTP edge: content negotiation, bodies, problem+json (it maps every refusal, PostgreSQL's outages included).
        ["Http"] = ["Benchmarks", "Jobs", "Observability", "Storage", "Storage.Postgres", .. Bottom],
        ["Benchmarks"] = ["Jobs", "Observability", "Storage", .. Bottom],
        ["Jobs"] = ["Observability", "Storage", .. Bottom],
        // Metrics are counted by jobs and read the stores at each scrape; they know no job code.
        ["Observability"] = ["Storage", .. Bottom],
        ["Storage.Postgres"] = ["Storage", .. Bottom],
        ["Storage"] = [.. Bottom],
        ["Model"] = [],
        ["Options"] = [],
    });

    private static string? HostLayer(Type type)
    {
        while (type.DeclaringType is { } outer) type = outer; // closures and state machines belong to their type
        if (type.Assembly != typeof(Program).Assembly) return null;
        if (type == typeof(Program)) return "Composition";
        return type.Namespace switch
        {
            "ConvService.Extensions" => "Composition",
            "ConvService" => "(the root namespace: no layer)", // fails HostAssembly_EveryNamespace_IsALayer
            "ConvService.Storage.Postgres" => "Storage.Postgres",
            { } ns when ns.StartsWith("ConvService.", StringComparison.Ordinal) => ns["ConvService.".Length..].Split('.')[0],
            _ => null, // compiler-generated helpers (<PrivateImplementationDetails>, the regex generator's)
        };
    }

    [Fact]
    public void HostAssembly_EveryReference_PointsDownTheLayers()
    {
        var violations = Host.Violations(typeof(Program).Assembly.GetTypes());
        Assert.True(violations.Count == 0, "References against the layers:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void HostAssembly_EveryNamespace_IsALayer()
    {
        var unknown = typeof(Program).Assembly.GetTypes().Select(HostLayer).OfType<string>()
            .Where(layer => !Host.MayUse.ContainsKey(layer)).Distinct().ToList();
        Assert.Empty(unknown);
    }

    private static readonly LayerRules Fake = new(Outermost, new Dictionary<string, string[]> { [nameof(High)] = [nameof(Low)], [nameof(Low)] = [] });

    private static string? Outermost(Type type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        return type == typeof(High) || type == typeof(Low) ? type.Name : null;
    }

    [Fact]
    public void Violations_LowerLayerNewsUpAHigherTypeInAMethodBody_IsReported() =>
        Assert.Contains($"{typeof(Low.BodyUser).FullName} → {typeof(High.Upper).FullName} (Low → High)", Fake.Violations([typeof(Low.BodyUser)]));

    [Fact]
    public void Violations_LowerLayerCallsAHigherStaticMethodInALambda_IsReported() =>
        Assert.Contains(Fake.Violations(typeof(Low.LambdaUser).GetNestedTypes(System.Reflection.BindingFlags.NonPublic)),
            v => v.EndsWith($" → {typeof(High.Upper).FullName} (Low → High)", StringComparison.Ordinal));

    [Fact]
    public void Violations_LowerLayerHasAFieldOfAHigherType_IsReported() =>
        Assert.Contains($"{typeof(Low.FieldUser).FullName} → {typeof(High.Upper).FullName} (Low → High)", Fake.Violations([typeof(Low.FieldUser)]));

    [Fact]
    public void Violations_HigherLayerUsesALowerOne_IsAllowed() =>
        Assert.Empty(Fake.Violations([typeof(High.Upper), typeof(Low.Clean)]));
}
