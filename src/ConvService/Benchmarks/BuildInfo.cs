using System.Diagnostics;
using System.Reflection;

namespace ConvService.Benchmarks;

/// <summary>How this process was compiled and is being JIT-compiled: what decides whether its timings mean anything.</summary>
/// <param name="Configuration">Release, or Debug when the host or the numeric core has its JIT optimiser disabled.</param>
/// <param name="TieredCompilation">True when the JIT tiers methods up while running.</param>
/// <param name="Warnings">One sentence per setting that skews timings, each saying how to fix it.</param>
public sealed record BuildInfo(string Configuration, bool TieredCompilation, IReadOnlyList<string> Warnings)
{
    /// <summary>This process.</summary>
    public static BuildInfo Current { get; } = Read(Environment.GetEnvironmentVariable);

    /// <summary>Reads the build of the host and core assemblies and the JIT settings from <paramref name="variable"/> (environment) and the run-time config.</summary>
    internal static BuildInfo Read(Func<string, string?> variable)
    {
        var warnings = new List<string>();
        var unoptimised = new List<string>();
        foreach (var assembly in new[] { typeof(BuildInfo).Assembly, typeof(Core.Convolution.Convolver).Assembly })
            if (assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true) unoptimised.Add(assembly.GetName().Name!);
        string configuration = unoptimised.Count == 0 ? "Release" : "Debug";
        if (unoptimised.Count > 0)
            warnings.Add($"This is a Debug build ({string.Join(" and ", unoptimised)} compiled without optimisation): convolutions run 5-10x slower " +
                "and the strategies' ratios are distorted. Start the service with 'dotnet run -c Release --project src/ConvService'.");

        // The csproj turns tiering off (runtimeconfig: System.Runtime.TieredCompilation=false); an environment variable overrides it.
        string? tieringVariable = variable("DOTNET_TieredCompilation") ?? variable("COMPlus_TieredCompilation");
        bool tiered = tieringVariable is not null
            ? tieringVariable.Trim() != "0"
            : !AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool enabled) || enabled;
        if (tiered)
            warnings.Add("Tiered compilation is on: the JIT recompiles the job and Hangfire code while repetitions are timed. " +
                "Unset DOTNET_TieredCompilation (the service's build turns it off).");
        foreach (var name in new[] { "DOTNET_JitMinOpts", "COMPlus_JITMinOpts", "DOTNET_JITMinOpts" })
            if (variable(name) is { } value && value.Trim() == "1")
                warnings.Add($"{name}=1 disables JIT optimisation: timings are meaningless. Unset it.");
        if (Debugger.IsAttached)
            warnings.Add("A debugger is attached: timings are slowed. Run without one.");
        return new BuildInfo(configuration, tiered, warnings);
    }
}
