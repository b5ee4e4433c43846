using ConvService.Model;

namespace ConvService.Benchmarks;

/// <summary>What a benchmark run produced.</summary>
/// <param name="Results">One per strategy, in request order.</param>
/// <param name="Environment">Where it ran.</param>
/// <param name="Agree">True when every output of every strategy and repetition was identical.</param>
/// <param name="Warnings">What makes the figures unrepresentative.</param>
public sealed record BenchmarkOutcome(IReadOnlyList<StrategyResult> Results, BenchmarkEnvironment Environment, bool Agree, IReadOnlyList<string> Warnings);
