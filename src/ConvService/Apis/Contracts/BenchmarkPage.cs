using ConvService.Model;

namespace ConvService.Apis.Contracts;

/// <summary>A page of benchmarks, newest first.</summary>
/// <param name="Items">Benchmarks.</param>
/// <param name="Next">Cursor for the next page, or null.</param>
public sealed record BenchmarkPage(IReadOnlyList<BenchmarkReport> Items, string? Next);
