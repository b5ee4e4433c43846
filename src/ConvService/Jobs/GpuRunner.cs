using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Gpu;
using ConvService.Options;

namespace ConvService.Jobs;

/// <summary>
/// This node's GPU, if it has one (<see cref="GpuOptions.Device"/>): runs <c>method: "gpu"</c> jobs, which only nodes
/// with a device take (they alone serve the <c>gpu</c> queue), and lists the node's accelerators for <c>/nodes</c> and
/// benchmark reports. Inputs stay resident on the device between jobs, keyed by array id.
/// </summary>
public sealed class GpuRunner : IDisposable
{
    private readonly GpuConvolver? _convolver;

    /// <summary>Opens the configured device; a node without one runs no GPU jobs, and says so.</summary>
    public GpuRunner(GpuOptions options, ILogger<GpuRunner> logger)
    {
        Accelerators = options.Device == "none" ? [] : GpuConvolver.Discover();
        _convolver = options.Device switch
        {
            "cuda" => GpuConvolver.TryCreateCuda(options.CacheBytes),
            "cpu" => GpuConvolver.CreateCpu(options.CacheBytes),
            _ => null,
        };
        if (_convolver is { } c)
        {
            Accelerators = [.. Accelerators.Where(a => a.Type != c.Device.Type || a.Name != c.Device.Name), c.Device];
            logger.LogInformation("GPU method on {Type} device {Name} ({MemoryMiB} MiB).", c.Device.Type, c.Device.Name, c.Device.MemoryBytes >> 20);
        }
        else if (options.Device == "cuda")
            logger.LogInformation("No CUDA device: this node runs no 'gpu' jobs (other nodes with a device still can).");
    }

    /// <summary>True when this node can run GPU jobs.</summary>
    public bool IsAvailable => _convolver is not null;

    /// <summary>The device GPU jobs run on here, or null.</summary>
    public AcceleratorInfo? Device => _convolver?.Device;

    /// <summary>Every accelerator this node has (the CPU emulation only when configured to run on it).</summary>
    public IReadOnlyList<AcceleratorInfo> Accelerators { get; }

    /// <summary>Convolves on the device into <paramref name="output"/>; the inputs are cached there under their array ids.</summary>
    /// <exception cref="InvalidOperationException">This node has no device (a gpu job reached it).</exception>
    public GpuTimings Convolve(Array2D image, string imageId, Array2D kernel, string kernelId, ConvolutionOptions options, Array2D output) =>
        (_convolver ?? throw new InvalidOperationException("This node has no GPU; method 'gpu' jobs run only on nodes that serve the 'gpu' queue."))
            .Convolve2D(image, kernel, options, output, imageId, kernelId);

    /// <summary>The convolver, for the benchmark's GPU strategies; null without a device.</summary>
    public GpuConvolver? Convolver => _convolver;

    /// <inheritdoc />
    public void Dispose() => _convolver?.Dispose();
}
