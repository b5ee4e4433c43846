using System.Globalization;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

/// <summary>One case of tests/fixtures/convolve2d_cases.json (written by make_fixtures.py with scipy 1.10.1).</summary>
public sealed record ScipyCase(
    string Name, Array2D Image, Array2D Kernel, ConvolutionOptions Options, Array2D? Expected, string? Refused, bool ScipyCrashes);

/// <summary>Loads the committed scipy fixtures once per test run.</summary>
public static class ScipyFixtures
{
    private static readonly Lazy<IReadOnlyDictionary<string, ScipyCase>> Cases = new(() => Load(FixturePath, ConvolutionOperation.Convolve));
    private static readonly Lazy<IReadOnlyDictionary<string, ScipyCase>> CorrelateCases =
        new(() => Load(Path.Combine(AppContext.BaseDirectory, "fixtures", "correlate2d_cases.json"), ConvolutionOperation.Correlate));

    /// <summary>convolve2d_cases.json: scipy.signal.convolve2d.</summary>
    public static IReadOnlyDictionary<string, ScipyCase> All => Cases.Value;

    /// <summary>correlate2d_cases.json: the same inputs through scipy.signal.correlate2d (options carry <see cref="ConvolutionOperation.Correlate"/>).</summary>
    public static IReadOnlyDictionary<string, ScipyCase> Correlate => CorrelateCases.Value;

    public static string FixturePath => Path.Combine(AppContext.BaseDirectory, "fixtures", "convolve2d_cases.json");

    private static IReadOnlyDictionary<string, ScipyCase> Load(string path, ConvolutionOperation operation)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var arrays = new Dictionary<string, Array2D>();
        foreach (var a in root.GetProperty("arrays").EnumerateObject())
            arrays[a.Name] = ReadArray(a.Value);

        var result = new Dictionary<string, ScipyCase>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var options = new ConvolutionOptions(
                Mode: Enum.Parse<ConvolutionMode>(c.GetProperty("mode").GetString()!, ignoreCase: true),
                Boundary: Enum.Parse<BoundaryMode>(c.GetProperty("boundary").GetString()!, ignoreCase: true),
                FillValue: ReadDouble(c.GetProperty("fill")),
                StrideY: c.GetProperty("strideY").GetInt32(),
                StrideX: c.GetProperty("strideX").GetInt32(),
                Operation: operation);
            string name = c.GetProperty("name").GetString()!;
            result.Add(name, new ScipyCase(
                name,
                arrays[c.GetProperty("image").GetString()!],
                arrays[c.GetProperty("kernel").GetString()!],
                options,
                c.TryGetProperty("expected", out var e) ? ReadArray(e) : null,
                c.TryGetProperty("refused", out var r) ? r.GetString() : null,
                c.TryGetProperty("scipyCrashes", out var crash) && crash.GetBoolean()));
        }
        return result;
    }

    private static Array2D ReadArray(JsonElement e)
    {
        int rows = e.GetProperty("rows").GetInt32(), cols = e.GetProperty("cols").GetInt32();
        var data = new double[rows * cols];
        int i = 0;
        foreach (var v in e.GetProperty("data").EnumerateArray()) data[i++] = ReadDouble(v);
        Assert.Equal(data.Length, i);
        return new Array2D(rows, cols, data);
    }

    // Non-finite values are stored as the strings "NaN", "Infinity", "-Infinity".
    private static double ReadDouble(JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetDouble();
}

/// <summary>Element-wise comparison with a tolerance relative to the expected array's largest finite magnitude.</summary>
public static class ArrayAssert
{
    public static void Close(Array2D expected, Array2D actual, double relativeTolerance, string context)
    {
        Assert.True(expected.Rows == actual.Rows && expected.Cols == actual.Cols,
            $"{context}: shape ({actual.Rows}, {actual.Cols}) but expected ({expected.Rows}, {expected.Cols})");
        double scale = 1.0;
        foreach (double v in expected.Data)
            if (double.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
        double tolerance = relativeTolerance * scale;
        for (int i = 0; i < expected.Rows; i++)
            for (int j = 0; j < expected.Cols; j++)
            {
                double e = expected[i, j], a = actual[i, j];
                bool ok = double.IsNaN(e) ? double.IsNaN(a)
                    : double.IsInfinity(e) ? e == a
                    : Math.Abs(a - e) <= tolerance;
                if (!ok)
                    Assert.Fail($"{context}: at ({i}, {j}) got {a:R}, expected {e:R} (tolerance {tolerance:E2})");
            }
    }

    public static void BitwiseEqual(Array2D expected, Array2D actual, string context)
    {
        Assert.True(expected.Rows == actual.Rows && expected.Cols == actual.Cols, $"{context}: shapes differ");
        for (int i = 0; i < expected.Data.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected.Data[i]) != BitConverter.DoubleToInt64Bits(actual.Data[i]))
                Assert.Fail($"{context}: element {i} is {actual.Data[i]:R}, expected bit-identical {expected.Data[i]:R}");
    }
}
