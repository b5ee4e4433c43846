using System.Globalization;
using System.Text;
using ConvService.Model;

namespace ConvService.Benchmarks;

/// <summary>Words and a picture for a finished benchmark.</summary>
public static class BenchmarkSummary
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>One paragraph: each strategy's speedup and efficiency, whether outputs agree, and whether the run was disturbed.</summary>
    public static string Describe(IReadOnlyList<StrategyResult> results, BenchmarkEnvironment environment, bool agree, IReadOnlyList<string>? warnings = null)
    {
        var text = new StringBuilder();
        foreach (var r in results)
        {
            if (text.Length > 0) text.Append("; ");
            text.Append(Invariant, $"{r.Strategy.Word()}: median {r.WallMs.Median:F1} ms for {r.Convolutions} convolutions ({r.ThroughputPerSecond:F1}/s");
            if (r.Speedup is { } s && r.Strategy != BenchmarkStrategy.Serial)
                text.Append(Invariant, $", {s:F2}× serial, efficiency {r.Efficiency:F2} on {r.Workers} worker{(r.Workers == 1 ? "" : "s")}");
            text.Append(')');
        }
        text.Append(agree ? ". Every strategy produced identical outputs." : ". WARNING: strategies produced different outputs.");
        if (environment.ConcurrentJobs > 0)
            text.Append(Invariant, $" {environment.ConcurrentJobs} other job(s) were active during the run, so timings may be disturbed.");
        if (environment.Build != "Release")
            text.Append(Invariant, $" WARNING: a {environment.Build} build; see warnings.");
        return text.ToString();
    }

    /// <summary>An SVG bar chart of speedup per strategy, with the ideal (linear) speedup for each bar's worker count.</summary>
    public static string Chart(BenchmarkReport report)
    {
        const int width = 640, height = 380, left = 70, right = 20, top = 50, bottom = 60;
        var results = report.Results;
        double max = 1;
        foreach (var r in results) max = Math.Max(max, Math.Max(r.Speedup ?? 0, r.Workers));
        max = Math.Ceiling(max * 1.15 * 2) / 2;
        double plotW = width - left - right, plotH = height - top - bottom;
        double Y(double v) => top + plotH * (1 - v / max);
        double band = plotW / Math.Max(1, results.Count);

        var svg = new StringBuilder();
        svg.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        var plan = report.Request;
        svg.Append(Invariant, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Speedup over serial — {Escape(Shape(plan.Image.Shape))} ⊛ {plan.Kernel.Count}× {Escape(Shape(plan.Kernel.Shape))}, {plan.Iterations} iterations, stride [{plan.Stride[0]}, {plan.Stride[1]}]</text>");
        svg.Append(Invariant, $"<text x=\"{width / 2}\" y=\"40\" text-anchor=\"middle\" fill=\"#555\">{Escape(report.Environment?.Cpu ?? "")} · {report.Environment?.ProcessorCount} cores · benchmark {report.Id}</text>");
        for (double v = 0; v <= max + 1e-9; v += max > 8 ? 2 : max > 4 ? 1 : 0.5)
        {
            svg.Append(Invariant, $"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{Y(v):F1}\" y2=\"{Y(v):F1}\" stroke=\"#e5e5e5\"/>");
            svg.Append(Invariant, $"<text x=\"{left - 8}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{v:0.#}×</text>");
        }
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            double x = left + band * i, barX = x + band * 0.2, barW = band * 0.6;
            double speedup = r.Speedup ?? 0;
            svg.Append(Invariant, $"<rect x=\"{barX:F1}\" y=\"{Y(speedup):F1}\" width=\"{barW:F1}\" height=\"{Y(0) - Y(speedup):F1}\" fill=\"#3b6ea8\"><title>{Escape(r.Strategy.Word())}: {speedup:F2}×</title></rect>");
            svg.Append(Invariant, $"<text x=\"{barX + barW / 2:F1}\" y=\"{Y(speedup) - 6:F1}\" text-anchor=\"middle\">{speedup:F2}×</text>");
            // Ideal: linear speedup in the strategy's own worker count.
            svg.Append(Invariant, $"<line x1=\"{x + band * 0.1:F1}\" x2=\"{x + band * 0.9:F1}\" y1=\"{Y(r.Workers):F1}\" y2=\"{Y(r.Workers):F1}\" stroke=\"#d9534f\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>");
            svg.Append(Invariant, $"<text x=\"{x + band / 2:F1}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{Escape(r.Strategy.Word())}</text>");
            svg.Append(Invariant, $"<text x=\"{x + band / 2:F1}\" y=\"{height - bottom + 34}\" text-anchor=\"middle\" fill=\"#555\">{r.Workers} worker{(r.Workers == 1 ? "" : "s")}, eff. {r.Efficiency ?? 0:F2}</text>");
        }
        svg.Append(Invariant, $"<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{Y(0):F1}\" stroke=\"#333\"/><line x1=\"{left}\" x2=\"{width - right}\" y1=\"{Y(0):F1}\" y2=\"{Y(0):F1}\" stroke=\"#333\"/>");
        svg.Append(Invariant, $"<text x=\"{width - right}\" y=\"{height - 8}\" text-anchor=\"end\" fill=\"#d9534f\">dashed: ideal speedup = workers</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string Shape(int[] shape) => $"{shape[0]}×{shape[1]}";

    private static string Escape(string s) => System.Security.SecurityElement.Escape(s) ?? "";
}
