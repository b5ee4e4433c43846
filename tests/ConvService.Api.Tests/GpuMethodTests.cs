using System.Net;
using System.Text.Json;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;
using ConvService.Core.Npy;

namespace ConvService.Api.Tests;

/// <summary>
/// <c>method: "gpu"</c> end to end: refused clearly where no node has a device; run by the node that has one (here
/// ILGPU's CPU emulation of the same kernels, <c>ConvService:Gpu:Device = cpu</c>), equal to the CPU result;
/// never chosen by <c>auto</c>; and each node's accelerators listed.
/// </summary>
public sealed class GpuMethodTests
{
    private const string Body = """
        {"image": {"generate": {"shape": [40, 33], "fill": "normal", "seed": 3}}, "kernel": {"generate": {"shape": [4, 5], "fill": "normal", "seed": 4}},
         "mode": "same", "boundary": "symm", "stride": [2, 3], "method": "gpu"}
        """;

    [Fact]
    public async Task Submit_GpuWithoutAnyDevice_Returns422SayingSo()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Gpu:Device", "none");
        using var client = factory.CreateClient();
        await (await client.PostAsync("/convolutions", ApiClient.Json(Body))).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "No node of this service has a GPU");
        var nodes = await (await client.GetAsync("/nodes")).ReadJsonAsync();
        Assert.Equal(0, nodes.GetProperty("thisNode").GetProperty("accelerators").EnumerateArray().Count(a => a.GetProperty("type").GetString() == "CPU"));
        Assert.Equal(JsonValueKind.Null, nodes.GetProperty("thisNode").GetProperty("gpuDevice").ValueKind);
        Assert.DoesNotContain(nodes.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("queues").EnumerateArray().Any(q => q.GetString() == "gpu"));
    }

    [Fact]
    public async Task Submit_GpuOnANodeWithADevice_RunsThereAndEqualsTheCpuResult()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Gpu:Device", "cpu");
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(Body);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal("gpu", job.GetProperty("method").GetString());
        Assert.StartsWith("gpu: requested", job.GetProperty("methodReason").GetString());

        var npy = await client.SendAsync(ApiClient.Get($"/convolutions/{job.GetProperty("id").GetString()}/result", "application/x-npy"));
        var result = NpyCodec.Read(await npy.Content.ReadAsByteArrayAsync(), long.MaxValue);
        var expected = Convolver.Convolve2D(ArrayGenerator.Generate(40, 33, FillKind.Normal, 3), ArrayGenerator.Generate(4, 5, FillKind.Normal, 4),
            new ConvolutionOptions(ConvolutionMode.Same, BoundaryMode.Symm, 0, 2, 3, ConvolutionMethod.Naive));
        Assert.Equal((expected.Rows, expected.Cols), (result.Rows, result.Cols));
        double scale = Math.Max(1, expected.Data.Max(Math.Abs));
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.True(Math.Abs(expected.Data[i] - result.Data[i]) <= 1e-12 * scale, $"element {i}: {result.Data[i]} vs {expected.Data[i]}");
        Assert.Equal(Core.Arrays.ResultDigest.Of(result).Checksum, job.GetProperty("result").GetProperty("checksum").GetString());

        var nodes = await (await client.GetAsync("/nodes")).ReadJsonAsync();
        Assert.Equal("CPU", nodes.GetProperty("thisNode").GetProperty("gpuDevice").GetProperty("type").GetString());
        Assert.Contains(nodes.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("queues").EnumerateArray().Any(q => q.GetString() == "gpu"));
    }

    [Fact]
    public async Task Submit_Auto_NeverPicksTheGpu()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Gpu:Device", "cpu");
        using var client = factory.CreateClient();
        var job = await client.SubmitAndWaitAsync(Body.Replace("\"gpu\"", "\"auto\""));
        Assert.NotEqual("gpu", job.GetProperty("method").GetString());
    }

    [Fact]
    public async Task Submit_GpuWithNanTreatment_Returns422()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Gpu:Device", "cpu");
        using var client = factory.CreateClient();
        await (await client.PostAsync("/convolutions", ApiClient.Json("""
            {"image": {"data": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, "kernel": {"data": [[0, 1, 0], [1, 1, 1], [0, 1, 0]]}, "nanTreatment": "interpolate", "method": "gpu"}
            """))).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "nanTreatment");
    }
}
