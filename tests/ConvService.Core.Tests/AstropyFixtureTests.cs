using System.Globalization;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;

namespace ConvService.Core.Tests;

/// <summary>
/// NaN-aware convolution against tests/fixtures/astropy_convolve_cases.json (make_astropy_fixtures.py, astropy 5.2.1):
/// every case to 1e-12 relative, and astropy's refusals refused.
/// </summary>
public sealed class AstropyFixtureTests
{
    private const double Tolerance = 1e-12;

    private static readonly Lazy<(Dictionary<string, Array2D> Arrays, List<JsonElement> Cases)> Fixture = new(() =>
    {
        var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "astropy_convolve_cases.json")));
        var arrays = new Dictionary<string, Array2D>();
        foreach (var a in doc.RootElement.GetProperty("arrays").EnumerateObject()) arrays[a.Name] = ReadArray(a.Value);
        return (arrays, doc.RootElement.GetProperty("cases").EnumerateArray().ToList());
    });

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var c in Fixture.Value.Cases) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Convolve2D_NanAware_MatchesAstropy(string name)
    {
        var c = Fixture.Value.Cases.Single(x => x.GetProperty("name").GetString() == name);
        var image = Fixture.Value.Arrays[c.GetProperty("image").GetString()!];
        var kernel = Fixture.Value.Arrays[c.GetProperty("kernel").GetString()!];
        var options = OptionsOf(c);
        if (c.TryGetProperty("refused", out _))
        {
            Assert.Throws<ConvolutionRefusedException>(() => Convolver.Convolve2D(image, kernel, options));
            return;
        }
        var expected = ReadArray(c.GetProperty("expected"));
        var actual = Convolver.Convolve2D(image, kernel, options);
        ArrayAssert.Close(expected, actual, Tolerance, name);
        // Threads split rows only: the same sums in the same order.
        ArrayAssert.BitwiseEqual(actual, Convolver.Convolve2D(image, kernel, options with { Threads = 3 }), name + " (3 threads)");
    }

    [Fact]
    public void Plan_NanAwareWithFft_IsRefused()
    {
        var options = new ConvolutionOptions(Mode: ConvolutionMode.Same, Method: ConvolutionMethod.Fft, NanAware: new NanAwareOptions());
        var e = Assert.Throws<ConvolutionRefusedException>(() => Convolver.Plan(10, 10, 3, 3, options));
        Assert.Contains("direct summation", e.Message);
    }

    [Fact]
    public void Plan_NanAwareInFullMode_IsRefused()
    {
        var options = new ConvolutionOptions(Mode: ConvolutionMode.Full, NanAware: new NanAwareOptions());
        Assert.Throws<ConvolutionRefusedException>(() => Convolver.Plan(10, 10, 3, 3, options));
    }

    [Fact]
    public void Convolve2D_NanAwareIntoBuffer_FillsCallersBuffer()
    {
        var image = Fixture.Value.Arrays["speckled"];
        var kernel = Fixture.Value.Arrays["gauss"];
        var options = new ConvolutionOptions(Mode: ConvolutionMode.Same, StrideY: 2, StrideX: 2, NanAware: new NanAwareOptions());
        var (rows, cols) = Convolver.OutputShape(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
        var output = new Array2D(rows, cols);
        Convolver.Convolve2D(image, kernel, options, output);
        ArrayAssert.BitwiseEqual(Convolver.Convolve2D(image, kernel, options), output, "buffer");
    }

    private static ConvolutionOptions OptionsOf(JsonElement c) => new(
        Mode: ConvolutionMode.Same,
        FillValue: ReadDouble(c.GetProperty("fillValue")),
        StrideY: c.GetProperty("strideY").GetInt32(),
        StrideX: c.GetProperty("strideX").GetInt32(),
        NanAware: new NanAwareOptions(
            Enum.Parse<NanTreatment>(c.GetProperty("nanTreatment").GetString()!, ignoreCase: true),
            c.GetProperty("normalizeKernel").GetBoolean(),
            c.GetProperty("preserveNan").GetBoolean(),
            Enum.Parse<AstropyBoundary>(c.GetProperty("boundary").GetString()!, ignoreCase: true)));

    private static Array2D ReadArray(JsonElement e)
    {
        int rows = e.GetProperty("rows").GetInt32(), cols = e.GetProperty("cols").GetInt32();
        return new Array2D(rows, cols, [.. e.GetProperty("data").EnumerateArray().Select(ReadDouble)]);
    }

    private static double ReadDouble(JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetDouble();
}
