using System.Diagnostics;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace ConvService.Gpu;

/// <summary>Where one GPU convolution's time went, in milliseconds: copies are reported apart from the compute.</summary>
/// <param name="UploadMs">Host → device copies (0 when every input was already resident).</param>
/// <param name="KernelMs">The kernel launch, synchronised.</param>
/// <param name="DownloadMs">Device → host copy of the outputs.</param>
public readonly record struct GpuTimings(double UploadMs, double KernelMs, double DownloadMs);

/// <summary>One accelerator a node has, as <c>/nodes</c> and a benchmark's environment list it.</summary>
/// <param name="Type">Cuda, OpenCL or CPU (ILGPU's accelerator types).</param>
/// <param name="Name">The device's name.</param>
/// <param name="MemoryBytes">Device memory.</param>
public sealed record AcceleratorInfo(string Type, string Name, long MemoryBytes);

/// <summary>
/// The direct convolution on an ILGPU accelerator, float64, with <c>scipy.signal.convolve2d</c> semantics (every mode,
/// boundary, fill value and stride, computed fused) for one kernel or a bank of kernels of one shape in one launch.
/// Inputs are uploaded once and kept on the device (<see cref="DeviceArrayCache"/>), so repeated convolutions of one
/// image measure the compute, not a PCIe copy each.
/// </summary>
/// <remarks>One launch at a time per instance: ILGPU's default stream is not shared between threads.</remarks>
public sealed class GpuConvolver : IDisposable
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Action<Index2D, ArrayView1D<double, Stride1D.Dense>, ArrayView1D<double, Stride1D.Dense>, ArrayView1D<double, Stride1D.Dense>, GpuGeometry> _kernel;
    private readonly DeviceArrayCache _cache;
    private readonly Lock _gate = new();
    private MemoryBuffer1D<double, Stride1D.Dense>? _outputs;

    private GpuConvolver(Context context, Accelerator accelerator, long cacheBytes)
    {
        _context = context;
        _accelerator = accelerator;
        _kernel = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView1D<double, Stride1D.Dense>, ArrayView1D<double, Stride1D.Dense>,
            ArrayView1D<double, Stride1D.Dense>, GpuGeometry>(GpuConvolutionKernel.Run);
        _cache = new DeviceArrayCache(accelerator, cacheBytes);
        Device = new AcceleratorInfo(accelerator.AcceleratorType.ToString(), accelerator.Name, accelerator.MemorySize);
    }

    /// <summary>The accelerator this instance runs on.</summary>
    public AcceleratorInfo Device { get; }

    /// <summary>The device-resident input cache.</summary>
    public DeviceArrayCache Cache => _cache;

    /// <summary>A convolver on the first CUDA device, or null when the node has none (or no CUDA driver).</summary>
    /// <param name="cacheBytes">Budget of device memory for resident inputs.</param>
    public static GpuConvolver? TryCreateCuda(long cacheBytes)
    {
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda());
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                context.Dispose();
                return null;
            }
            return new GpuConvolver(context, devices[0].CreateAccelerator(context), cacheBytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose(); // no driver, no device, or a device ILGPU cannot use: the node has no GPU method
            return null;
        }
    }

    /// <summary>A convolver on ILGPU's CPU accelerator: the same kernels, emulated on the host's threads (tests, development).</summary>
    public static GpuConvolver CreateCpu(long cacheBytes = 256L << 20)
    {
        var context = Context.Create(builder => builder.CPU());
        return new GpuConvolver(context, context.CreateCPUAccelerator(0), cacheBytes);
    }

    /// <summary>Every accelerator ILGPU finds on this machine, the CPU emulation excluded.</summary>
    public static IReadOnlyList<AcceleratorInfo> Discover()
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda().OpenCL());
            var found = new List<AcceleratorInfo>();
            foreach (var device in context)
                if (device.AcceleratorType != AcceleratorType.CPU)
                    found.Add(new AcceleratorInfo(device.AcceleratorType.ToString(), device.Name, device.MemorySize));
            return found;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return [];
        }
    }

    /// <summary>Convolves <paramref name="image"/> with <paramref name="kernel"/> into <paramref name="output"/> (shape from <c>Convolver.OutputShape</c>).</summary>
    public GpuTimings Convolve2D(Array2D image, Array2D kernel, ConvolutionOptions options, Array2D output, string? imageKey = null, string? kernelKey = null) =>
        Convolve2D(image, [kernel], options, [output], imageKey, kernelKey is null ? null : [kernelKey]);

    /// <summary>
    /// Convolves <paramref name="image"/> with every kernel of <paramref name="kernels"/> (all of one shape) in one launch,
    /// output k into <paramref name="outputs"/>[k]. Keys name inputs for the device cache (array ids); a null key uploads
    /// the array for this call only.
    /// </summary>
    /// <exception cref="ConvolutionRefusedException">What scipy refuses, or kernels of different shapes in one bank.</exception>
    public GpuTimings Convolve2D(Array2D image, IReadOnlyList<Array2D> kernels, ConvolutionOptions options, IReadOnlyList<Array2D> outputs,
        string? imageKey = null, IReadOnlyList<string>? kernelKeys = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (kernels.Count == 0 || kernels.Count != outputs.Count)
            throw new ArgumentException($"A bank needs one output per kernel and at least one kernel; got {kernels.Count} kernels and {outputs.Count} outputs.");
        var first = kernels[0];
        foreach (var k in kernels)
            if (k.Rows != first.Rows || k.Cols != first.Cols)
                throw new ConvolutionRefusedException(
                    $"The GPU method runs a bank of one kernel shape per launch; got {first.Rows}×{first.Cols} and {k.Rows}×{k.Cols}. Submit each shape as its own job.");
        var geometry = ConvolutionGeometry.Compute(image.Rows, image.Cols, first.Rows, first.Cols, options);
        foreach (var output in outputs)
            if (output.Rows != geometry.OutputRows || output.Cols != geometry.OutputCols)
                throw new ArgumentException($"An output has shape ({output.Rows}, {output.Cols}) but this convolution produces ({geometry.OutputRows}, {geometry.OutputCols}).");
        if (geometry.Swapped)
        {
            // scipy's valid rule swaps image and kernel; a bank whose kernels are larger than the image is not a bank.
            if (kernels.Count != 1)
                throw new ConvolutionRefusedException("In valid mode every kernel of a bank must fit inside the image (scipy would swap them one by one). Submit them as separate jobs.");
            return ConvolveCore(first, [image], geometry, options, outputs, kernelKeys?[0], imageKey is null ? null : [imageKey]);
        }
        return ConvolveCore(image, kernels, geometry, options, outputs, imageKey, kernelKeys);
    }

    private GpuTimings ConvolveCore(Array2D image, IReadOnlyList<Array2D> kernels, in ConvolutionGeometry geometry, in ConvolutionOptions options,
        IReadOnlyList<Array2D> outputs, string? imageKey, IReadOnlyList<string>? kernelKeys)
    {
        if (geometry.OutputLength == 0 || geometry.KernelRows == 0 || geometry.KernelCols == 0)
        {
            foreach (var output in outputs) output.Span.Clear(); // an empty sum (as the CPU methods give)
            return default;
        }
        var g = new GpuGeometry
        {
            ImageRows = geometry.ImageRows, ImageCols = geometry.ImageCols, KernelRows = geometry.KernelRows, KernelCols = geometry.KernelCols,
            OriginY = geometry.OriginY, OriginX = geometry.OriginX, StrideY = geometry.StrideY, StrideX = geometry.StrideX,
            OutputRows = geometry.OutputRows, OutputCols = geometry.OutputCols, KernelCount = kernels.Count,
            Boundary = (int)options.Boundary, FillValue = options.FillValue,
        };
        long plane = geometry.OutputLength;
        lock (_gate)
        {
            long t0 = Stopwatch.GetTimestamp();
            var imageBuffer = _cache.Resident(image, imageKey);
            var bank = _cache.ResidentBank(kernels, kernelKeys);
            long outputLength = plane * kernels.Count;
            if (_outputs is null || _outputs.Length < outputLength)
            {
                _outputs?.Dispose();
                _outputs = _accelerator.Allocate1D<double>(outputLength);
            }
            _accelerator.Synchronize();
            long t1 = Stopwatch.GetTimestamp();
            _kernel(new Index2D(geometry.OutputCols, geometry.OutputRows), imageBuffer.View, bank.View, _outputs.View, g);
            _accelerator.Synchronize();
            long t2 = Stopwatch.GetTimestamp();
            for (int k = 0; k < kernels.Count; k++)
                _outputs.View.BaseView.SubView(k * plane, plane).CopyToCPU(outputs[k].Span);
            long t3 = Stopwatch.GetTimestamp();
            _cache.ReleaseTransient();
            return new GpuTimings(Ms(t0, t1), Ms(t1, t2), Ms(t2, t3));
        }
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _outputs?.Dispose();
            _cache.Dispose();
            _accelerator.Dispose();
            _context.Dispose();
        }
    }
}
