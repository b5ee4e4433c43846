using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json.Serialization;

namespace ConvService.Model;

/// <summary>How a benchmark spreads its convolutions; JSON (and a stored report) carries the word of each.</summary>
public enum BenchmarkStrategy
{
    /// <summary>One convolution at a time on one thread.</summary>
    [JsonStringEnumMemberName("serial")] Serial,
    /// <summary>One convolution per worker thread at a time.</summary>
    [JsonStringEnumMemberName("parallel")] Parallel,
    /// <summary>One convolution at a time, its rows split over the workers.</summary>
    [JsonStringEnumMemberName("parallel-rows")] ParallelRows,
    /// <summary>Each iteration one filter bank over every filter, its rows split over the workers.</summary>
    [JsonStringEnumMemberName("fused")] Fused,
    /// <summary>One Hangfire job per convolution.</summary>
    [JsonStringEnumMemberName("hangfire")] Hangfire,
    /// <summary>One Hangfire job per iteration's filter bank.</summary>
    [JsonStringEnumMemberName("hangfire-fused")] HangfireFused,
    /// <summary>One device launch per convolution.</summary>
    [JsonStringEnumMemberName("gpu")] Gpu,
    /// <summary>One device launch per iteration's filter bank.</summary>
    [JsonStringEnumMemberName("gpu-fused")] GpuFused,
}

/// <summary>The strategies' words, as the API takes them and JSON writes them.</summary>
public static class BenchmarkStrategies
{
    /// <summary>Every strategy, in the order the API lists them.</summary>
    public static readonly ImmutableArray<BenchmarkStrategy> All = [.. Enum.GetValues<BenchmarkStrategy>()];

    private static readonly FrozenDictionary<BenchmarkStrategy, string> Words = All.ToFrozenDictionary(s => s, s =>
        typeof(BenchmarkStrategy).GetField(s.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name);

    private static readonly FrozenDictionary<string, BenchmarkStrategy> ByWord = Words.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>The strategy's word (serial, parallel-rows, hangfire-fused, …).</summary>
    public static string Word(this BenchmarkStrategy strategy) => Words[strategy];

    /// <summary>The strategy named by <paramref name="word"/>, exactly as written (no other case, no number).</summary>
    public static bool TryParse(string word, out BenchmarkStrategy strategy) => ByWord.TryGetValue(word, out strategy);
}
