using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Tests;

namespace ConvService.Gpu.Tests;

/// <summary>One ILGPU accelerator for the whole class: creating a context compiles the kernel, which takes a while.</summary>
public sealed class CpuAcceleratorFixture : IDisposable
{
    /// <summary>The GPU kernels on ILGPU's CPU accelerator: the same device code, run on the host.</summary>
    public GpuConvolver Convolver { get; } = GpuConvolver.CreateCpu();

    public void Dispose() => Convolver.Dispose();
}

/// <summary>
/// The GPU method's kernels, run on ILGPU's CPU accelerator so every machine checks them: against scipy's fixtures
/// and the naive loop, one kernel and banks, every mode, boundary, fill value and stride; and the device cache.
/// </summary>
public sealed class GpuConvolverTests(CpuAcceleratorFixture fixture) : IClassFixture<CpuAcceleratorFixture>
{
    private const double Tolerance = 1e-12;
    private GpuConvolver Gpu => fixture.Convolver;

    public static TheoryData<string> FixtureNames()
    {
        var rows = new TheoryData<string>();
        foreach (var name in ScipyFixtures.All.Keys.Order(StringComparer.Ordinal)) rows.Add(name);
        return rows;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Convolve2D_MatchesScipy(string caseName)
    {
        var c = ScipyFixtures.All[caseName];
        if (c.Refused is not null)
        {
            Assert.Throws<ConvolutionRefusedException>(() => Gpu.Convolve2D(c.Image, c.Kernel, c.Options, new Array2D(0, 0)));
            return;
        }
        var output = Array2D.CreateUninitialized(c.Expected!.Rows, c.Expected.Cols);
        output.Span.Fill(double.NaN); // every output must be written
        Gpu.Convolve2D(c.Image, c.Kernel, c.Options, output);
        ArrayAssert.Close(c.Expected, output, Tolerance, caseName);
    }

    [Fact]
    public void Convolve2D_RandomCases_EqualTheNaiveLoop()
    {
        var rng = new Random(20261202);
        int compared = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            var image = Random(rng, rng.Next(1, 23), rng.Next(1, 23));
            var kernel = Random(rng, rng.Next(1, 9), rng.Next(1, 9));
            var options = new ConvolutionOptions(
                (ConvolutionMode)rng.Next(3), (BoundaryMode)rng.Next(3), rng.Next(4) == 0 ? rng.NextDouble() * 4 - 2 : 0,
                rng.Next(1, 4), rng.Next(1, 4), ConvolutionMethod.Naive);
            Array2D expected;
            try { expected = ConvService.Core.Convolution.Convolver.Convolve2D(image, kernel, options); }
            catch (ConvolutionRefusedException)
            {
                Assert.Throws<ConvolutionRefusedException>(() => Gpu.Convolve2D(image, kernel, options, new Array2D(0, 0)));
                continue;
            }
            var output = new Array2D(expected.Rows, expected.Cols);
            Gpu.Convolve2D(image, kernel, options, output);
            ArrayAssert.Close(expected, output, Tolerance, $"trial {trial}: {image.Rows}x{image.Cols} * {kernel.Rows}x{kernel.Cols}, {options}");
            compared++;
        }
        Assert.True(compared > 100, $"only {compared} cases ran");
    }

    [Theory]
    [InlineData(ConvolutionMode.Full, BoundaryMode.Fill, 1)]
    [InlineData(ConvolutionMode.Same, BoundaryMode.Symm, 2)]
    [InlineData(ConvolutionMode.Valid, BoundaryMode.Wrap, 3)]
    public void Bank_EqualsOneLaunchPerKernel(ConvolutionMode mode, BoundaryMode boundary, int stride)
    {
        var rng = new Random((int)mode * 10 + (int)boundary);
        var image = Random(rng, 37, 41);
        var kernels = Enumerable.Range(0, 5).Select(_ => Random(rng, 4, 3)).ToArray();
        var options = new ConvolutionOptions(mode, boundary, 0.5, stride, stride);
        var (rows, cols) = ConvService.Core.Convolution.Convolver.OutputShape(37, 41, 4, 3, options);
        var outputs = kernels.Select(_ => new Array2D(rows, cols)).ToArray();
        Gpu.Convolve2D(image, kernels, options, outputs);
        for (int k = 0; k < kernels.Length; k++)
        {
            var single = new Array2D(rows, cols);
            Gpu.Convolve2D(image, kernels[k], options, single);
            ArrayAssert.BitwiseEqual(single, outputs[k], $"kernel {k}");
            var naive = ConvService.Core.Convolution.Convolver.Convolve2D(image, kernels[k], options with { Method = ConvolutionMethod.Naive });
            ArrayAssert.Close(naive, outputs[k], Tolerance, $"kernel {k} vs naive");
        }
    }

    [Fact]
    public void Bank_OfMixedShapes_IsRefusedClearly()
    {
        var e = Assert.Throws<ConvolutionRefusedException>(() => Gpu.Convolve2D(new Array2D(10, 10), [new Array2D(3, 3), new Array2D(4, 4)],
            ConvolutionOptions.Default, [new Array2D(12, 12), new Array2D(13, 13)]));
        Assert.Contains("one kernel shape", e.Message);
    }

    [Fact]
    public void KeyedInputs_AreUploadedOnce_AndUnkeyedOnesAreNotKept()
    {
        using var gpu = GpuConvolver.CreateCpu(cacheBytes: 1 << 20);
        var rng = new Random(5);
        var image = Random(rng, 30, 30);
        var kernel = Random(rng, 3, 3);
        var output = new Array2D(32, 32);
        for (int i = 0; i < 4; i++) gpu.Convolve2D(image, kernel, ConvolutionOptions.Default, output, imageKey: "image-1", kernelKey: "kernel-1");
        Assert.Equal(2, gpu.Cache.Uploads); // the image and the one-kernel bank, once each
        Assert.True(gpu.Cache.Bytes >= 30 * 30 * sizeof(double));
        long resident = gpu.Cache.Bytes;
        gpu.Convolve2D(image, kernel, ConvolutionOptions.Default, output);
        Assert.Equal(4, gpu.Cache.Uploads);
        Assert.Equal(resident, gpu.Cache.Bytes); // one-launch uploads are released
        var expected = ConvService.Core.Convolution.Convolver.Convolve2D(image, kernel, ConvolutionOptions.Default with { Method = ConvolutionMethod.Naive });
        ArrayAssert.Close(expected, output, Tolerance, "cached inputs");
    }

    [Fact]
    public void Cache_OverBudget_EvictsTheLeastRecentlyUsed()
    {
        using var gpu = GpuConvolver.CreateCpu(cacheBytes: 3 * 100 * sizeof(double));
        var kernel = new Array2D(1, 1, [1.0]);
        var output = new Array2D(10, 10);
        foreach (var key in new[] { "a", "b", "a", "c", "d" })
            gpu.Convolve2D(new Array2D(10, 10), kernel, ConvolutionOptions.Default, output, imageKey: key, kernelKey: "k");
        Assert.True(gpu.Cache.Bytes <= 3 * 100 * sizeof(double));
        long uploads = gpu.Cache.Uploads;
        gpu.Convolve2D(new Array2D(10, 10), kernel, ConvolutionOptions.Default, output, imageKey: "d", kernelKey: "k");
        Assert.Equal(uploads, gpu.Cache.Uploads); // still resident
    }

    [Fact]
    public void Discover_ListsNoCpuEmulation_AndTryCreateCudaIsNullWithoutADevice()
    {
        var found = GpuConvolver.Discover();
        Assert.DoesNotContain(found, a => a.Type == "CPU");
        using var cuda = GpuConvolver.TryCreateCuda(1 << 20);
        Assert.Equal(found.Any(a => a.Type == "Cuda"), cuda is not null);
    }

    private static Array2D Random(Random rng, int rows, int cols)
    {
        var a = new Array2D(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble() * 2 - 1;
        return a;
    }
}
