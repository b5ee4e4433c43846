namespace ConvService.Api.Tests.Architecture;

/// <summary>
/// Which layer a type belongs to (by its namespace) and which layers each may refer to; <see cref="Violations"/> lists
/// every reference against those directions as "type → type (layer → layer)".
/// </summary>
/// <param name="LayerOf">A type's layer, or null for a type outside the checked assembly's layers (the BCL, Hangfire, Core).</param>
/// <param name="MayUse">For each layer, the layers it may refer to (itself always included).</param>
public sealed record LayerRules(Func<Type, string?> LayerOf, IReadOnlyDictionary<string, string[]> MayUse)
{
    /// <summary>Every forbidden reference among <paramref name="types"/>, sorted, one line each.</summary>
    public IReadOnlyList<string> Violations(IEnumerable<Type> types)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            if (LayerOf(type) is not { } from) continue;
            foreach (var used in TypeReferences.Of(type))
            {
                if (LayerOf(used) is not { } to || to == from) continue;
                if (!MayUse.TryGetValue(from, out var allowed) || !allowed.Contains(to))
                    violations.Add($"{Name(type)} → {Name(used)} ({from} → {to})");
            }
        }
        return [.. violations];
    }

    private static string Name(Type type) => type.FullName ?? type.Name;
}
