using ConvService.Core.Arrays;
using ConvService.Core.Convolution.Direct;

namespace ConvService.Core.Convolution;

/// <summary>
/// The one entry point for 2-D convolution. <see cref="Convolve2D(Array2D, Array2D, ConvolutionOptions, CancellationToken)"/> returns exactly
/// <c>scipy.signal.convolve2d(image, kernel, mode, boundary, fillvalue)[::sy, ::sx]</c>, computing only
/// the outputs the stride keeps.
/// </summary>
public static class Convolver
{
    /// <summary>Convolves <paramref name="image"/> with <paramref name="kernel"/>.</summary>
    /// <exception cref="ConvolutionRefusedException">The request is one scipy refuses, or cannot be computed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between row bands.</exception>
    public static Array2D Convolve2D(Array2D image, Array2D kernel, ConvolutionOptions options, CancellationToken cancellationToken = default) =>
        Run(image, kernel, options, output: null, digest: null, cancellationToken);

    /// <summary>
    /// Convolves into a caller-owned <paramref name="output"/> of shape <see cref="OutputShape"/>, overwriting every
    /// element. For loops that convolve many times: a reused buffer is already mapped, while a fresh multi-megabyte
    /// array costs one page fault per 4 KB on first touch (on the reference VM that was as long as the convolution).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> does not have the output's shape.</exception>
    /// <exception cref="ConvolutionRefusedException">The request is one scipy refuses, or cannot be computed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between row bands; <paramref name="output"/> is then partly written.</exception>
    public static void Convolve2D(Array2D image, Array2D kernel, ConvolutionOptions options, Array2D output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        Run(image, kernel, options, output, digest: null, cancellationToken);
    }

    /// <summary>
    /// <see cref="Convolve2D(Array2D, Array2D, ConvolutionOptions, Array2D, CancellationToken)"/>, also feeding every band of
    /// output rows to <paramref name="digest"/> right after it is written, while it is in cache: the checksum and
    /// statistics of the result cost a few percent of the convolution instead of a second pass over memory. Call
    /// <see cref="ResultDigest.Finish"/> afterwards.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> or <paramref name="digest"/> does not have the output's shape.</exception>
    /// <exception cref="ConvolutionRefusedException">The request is one scipy refuses, or cannot be computed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between row bands; <paramref name="output"/> is then partly written.</exception>
    public static void Convolve2D(Array2D image, Array2D kernel, ConvolutionOptions options, Array2D output, ResultDigest digest,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(digest);
        digest.CheckShape(output);
        Run(image, kernel, options, output, digest, cancellationToken);
    }

    /// <summary>Both overloads: validate, swap for scipy's valid rule, choose the method, run into <paramref name="output"/> or a new array.</summary>
    private static Array2D Run(Array2D image, Array2D kernel, in ConvolutionOptions options, Array2D? output, ResultDigest? digest,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernel);
        var geometry = ConvolutionGeometry.Compute(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
        RefuseCorrelationWithNanAware(options);
        if (options.NanAware is not null)
        {
            // astropy's semantics: its own direct loop (same mode only, so no swap), into the caller's buffer or a new one.
            if (output is not null && (output.Rows != geometry.OutputRows || output.Cols != geometry.OutputCols))
                throw new ArgumentException($"The output buffer has shape ({output.Rows}, {output.Cols}) but this convolution produces ({geometry.OutputRows}, {geometry.OutputCols}).", nameof(output));
            output ??= Array2D.CreateUninitialized(geometry.OutputRows, geometry.OutputCols);
            NanAwareConvolution.Run(image, kernel, options, output, cancellationToken);
            return output;
        }
        if (output is not null)
        {
            if (output.Rows != geometry.OutputRows || output.Cols != geometry.OutputCols)
                throw new ArgumentException(
                    $"The output buffer has shape ({output.Rows}, {output.Cols}) but this convolution produces ({geometry.OutputRows}, {geometry.OutputCols}); " +
                    "size it with Convolver.OutputShape.", nameof(output));
            if (ReferenceEquals(output, image) || ReferenceEquals(output, kernel))
                throw new ArgumentException("The output buffer must not be one of the inputs: convolution cannot run in place.", nameof(output));
        }
        kernel = Oriented(kernel, options);
        if (geometry.Swapped) (image, kernel) = (kernel, image);
        // The reason string is only built by the public Plan: formatting it costs more than a 32×32 convolution.
        var (method, _) = Choose(geometry, options);
        return Execute(image, kernel, geometry, options, method, cancellationToken, output: output, digest: digest);
    }

    /// <summary>
    /// Applies every kernel of a filter bank to <paramref name="image"/> in one sweep: for each band of output rows, every
    /// kernel consumes the band's input rows while they are in cache before the sweep moves on, so the image is read
    /// from memory about once instead of once per kernel. <paramref name="outputs"/>[k] receives exactly what
    /// <see cref="Convolve2D(Array2D, Array2D, ConvolutionOptions, Array2D, CancellationToken)"/> would write for
    /// <paramref name="kernels"/>[k], bit for bit: each kernel runs the single-kernel path's own prepared runner, driven band by band.
    /// </summary>
    /// <remarks>
    /// Every kernel must produce the same output shape (kernels of different sizes in mode <c>same</c>, or of one size in any
    /// mode); a kernel that scipy's <c>valid</c> rule swaps with the image, or that the plan sends to the FFT, is computed on
    /// its own (its own pass), with the same result. <paramref name="options"/>.Threads spreads the bands over threads.
    /// </remarks>
    /// <param name="image">The image every kernel is applied to.</param>
    /// <param name="kernels">The bank: at least one kernel.</param>
    /// <param name="options">The options of every convolution of the bank (NaN-aware convolution is refused).</param>
    /// <param name="outputs">One caller-owned buffer per kernel, each of shape <see cref="OutputShape"/>.</param>
    /// <param name="digests">Optional: one digest per kernel, fed band by band as the single-kernel overload does.</param>
    /// <param name="cancellationToken">Checked between row bands.</param>
    /// <exception cref="ArgumentException">The counts or shapes of <paramref name="outputs"/> or <paramref name="digests"/> do not fit the bank.</exception>
    /// <exception cref="ConvolutionRefusedException">The bank is empty, its kernels give different output shapes, or one convolution is refused.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between row bands; the outputs are then partly written.</exception>
    public static void Convolve2D(Array2D image, Array2D[] kernels, ConvolutionOptions options, Array2D[] outputs,
        ResultDigest[]? digests = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(outputs);
        if (kernels.Length == 0)
            throw new ConvolutionRefusedException("The filter bank is empty: send at least one kernel.");
        if (outputs.Length != kernels.Length)
            throw new ArgumentException($"The bank has {kernels.Length} kernels but {outputs.Length} output buffers: pass one buffer per kernel.", nameof(outputs));
        if (digests is not null && digests.Length != kernels.Length)
            throw new ArgumentException($"The bank has {kernels.Length} kernels but {digests.Length} digests: pass one digest per kernel, or none.", nameof(digests));
        if (options.NanAware is not null)
            throw new ConvolutionRefusedException(
                "A filter bank cannot use NaN-aware convolution (nanTreatment): send each kernel as its own convolution, or drop nanTreatment.");

        // Validate the whole bank before computing anything, so a refusal leaves every output untouched.
        var geometries = new ConvolutionGeometry[kernels.Length];
        for (int k = 0; k < kernels.Length; k++)
        {
            var kernel = kernels[k] ?? throw new ArgumentNullException(nameof(kernels), $"Kernel {k} of the bank is null.");
            var g = ConvolutionGeometry.Compute(image.Rows, image.Cols, kernel.Rows, kernel.Cols, options);
            if (k > 0 && (g.OutputRows != geometries[0].OutputRows || g.OutputCols != geometries[0].OutputCols))
                throw new ConvolutionRefusedException(
                    $"Kernel {k} of the bank is {kernel.Rows}×{kernel.Cols} and gives a {g.OutputRows}×{g.OutputCols} output, but kernel 0 is " +
                    $"{kernels[0].Rows}×{kernels[0].Cols} and gives {geometries[0].OutputRows}×{geometries[0].OutputCols}: the kernels of one bank must give " +
                    "outputs of one shape. Use kernels of one size, or mode 'same' (whose output has the image's shape), or send them as separate banks.");
            geometries[k] = g;
            var output = outputs[k] ?? throw new ArgumentNullException(nameof(outputs), $"Output buffer {k} is null.");
            if (output.Rows != g.OutputRows || output.Cols != g.OutputCols)
                throw new ArgumentException(
                    $"Output buffer {k} has shape ({output.Rows}, {output.Cols}) but this bank produces ({g.OutputRows}, {g.OutputCols}); size it with Convolver.OutputShape.",
                    nameof(outputs));
            if (ReferenceEquals(output, image) || Array.IndexOf(kernels, output) >= 0 || Array.IndexOf(outputs, output) != k)
                throw new ArgumentException($"Output buffer {k} is an input or another output: each kernel needs its own buffer.", nameof(outputs));
            digests?[k].CheckShape(output);
        }
        Choose(geometries[0], options); // threads and method refusals, once for the bank

        var runners = new IRowBandRunner?[kernels.Length];
        try
        {
            for (int k = 0; k < kernels.Length; k++)
            {
                var g = geometries[k];
                var (method, _) = Choose(g, options);
                // Kernels that cannot share the image's sweep get the single-kernel path whole: scipy's valid-mode swap makes
                // the kernel the image, the FFT transforms everything at once, and empty convolutions have no rows to sweep.
                if (g.Swapped || method == ConvolutionMethod.Fft || g.OutputLength == 0 || g.KernelRows == 0 || g.KernelCols == 0)
                {
                    Run(image, kernels[k], options, outputs[k], digests?[k], cancellationToken);
                    continue;
                }
                var kernel = Oriented(kernels[k], options);
                runners[k] = method == ConvolutionMethod.Naive
                    ? new NaiveRunner(image, kernel, g, options)
                    : DirectConvolution.Prepare(image, kernel, g, options);
            }
            RowBands.RunBank(runners, outputs, image.Cols * options.StrideY, options.Threads, digests, cancellationToken);
        }
        finally
        {
            foreach (var runner in runners) runner?.Dispose();
        }
    }

    /// <summary>The kernel a convolution multiplies by: itself, or rotated by 180° for a correlation (scipy: <c>correlate2d</c> = <c>convolve2d</c> with <c>rot180(conj(in2))</c>).</summary>
    private static Array2D Oriented(Array2D kernel, in ConvolutionOptions options)
    {
        if (options.Operation != ConvolutionOperation.Correlate) return kernel;
        var rotated = Array2D.CreateUninitialized(kernel.Rows, kernel.Cols);
        var src = kernel.Span;
        var dst = rotated.Span;
        for (int i = 0; i < src.Length; i++) dst[src.Length - 1 - i] = src[i];
        return rotated;
    }

    private static void RefuseCorrelationWithNanAware(in ConvolutionOptions options)
    {
        if (options.NanAware is not null && options.Operation == ConvolutionOperation.Correlate)
            throw new ConvolutionRefusedException(
                "NaN-aware convolution (nanTreatment) follows astropy.convolution.convolve, which has no correlation: use operation 'convolve' with nanTreatment, or drop nanTreatment.");
    }

    /// <summary>
    /// The shape <see cref="Convolve2D(Array2D, Array2D, ConvolutionOptions, CancellationToken)"/> returns for these input shapes;
    /// throws <see cref="ConvolutionRefusedException"/> where it would.
    /// </summary>
    public static (int Rows, int Cols) OutputShape(int imageRows, int imageCols, int kernelRows, int kernelCols, ConvolutionOptions options)
    {
        var geometry = ConvolutionGeometry.Compute(imageRows, imageCols, kernelRows, kernelCols, options);
        return (geometry.OutputRows, geometry.OutputCols);
    }

    /// <summary>
    /// The working memory, in bytes, method 'fft' would allocate for these shapes (spectra and buffers; not the inputs
    /// or the output), so a host can refuse a plan before it runs; throws <see cref="ConvolutionRefusedException"/>
    /// where <see cref="Convolve2D(Array2D, Array2D, ConvolutionOptions, CancellationToken)"/> would.
    /// </summary>
    public static long FftWorkingBytes(int imageRows, int imageCols, int kernelRows, int kernelCols, ConvolutionOptions options)
    {
        var geometry = ConvolutionGeometry.Compute(imageRows, imageCols, kernelRows, kernelCols, options);
        try
        {
            return Fft.FftConvolution.WorkingBytes(geometry, options.Boundary, options.Threads);
        }
        catch (OverflowException)
        {
            return long.MaxValue; // a transform length past int: no machine has the memory
        }
    }

    /// <summary>Runs <paramref name="method"/> on inputs already in geometry order; tests use it to force a path.</summary>
    internal static Array2D Execute(Array2D image, Array2D kernel, in ConvolutionGeometry geometry, in ConvolutionOptions options,
        ConvolutionMethod method, CancellationToken cancellationToken, Simd.VectorTier? tier = null, bool? paddedCopy = null,
        Array2D? output = null, ResultDigest? digest = null)
    {
        // An empty kernel makes every output an empty sum: zeros.
        if (geometry.OutputLength == 0 || geometry.KernelRows == 0 || geometry.KernelCols == 0)
        {
            output ??= new Array2D(geometry.OutputRows, geometry.OutputCols);
            output.Span.Clear();
            digest?.AddAll(output);
            return output;
        }
        // Every method writes every kept output, so the buffer is not zeroed first (large ones are huge-page advised: LargeBuffers).
        output ??= Array2D.CreateUninitialized(geometry.OutputRows, geometry.OutputCols);

        if (method == ConvolutionMethod.Fft)
        {
            if (Fft.FftConvolution.AllFinite(image.Data) && Fft.FftConvolution.AllFinite(kernel.Data))
            {
                Fft.FftConvolution.Run(image, kernel, geometry, options, output, cancellationToken);
                digest?.AddAll(output); // the FFT writes its output in one inverse pass, not in bands: a pass of its own
                return output;
            }
            if (options.Method == ConvolutionMethod.Fft)
                throw new ConvolutionRefusedException(
                    "Method 'fft' cannot convolve inputs that contain NaN or ±∞: one such value would spread over the whole transform. " +
                    "Use method 'direct' or 'auto' (which switches to direct for such inputs).");
            method = ConvolutionMethod.Direct; // auto picked fft from the shapes; the data rule it out
        }
        using IRowBandRunner runner = method switch
        {
            ConvolutionMethod.Naive => new NaiveRunner(image, kernel, geometry, options),
            ConvolutionMethod.Direct => DirectConvolution.Prepare(image, kernel, geometry, options, tier, paddedCopy),
            _ => throw new InvalidOperationException($"Plan resolved to {method}, which has no runner."),
        };
        RowBands.Run(runner, output, options.Threads, digest, cancellationToken);
        return output;
    }

    /// <summary>
    /// Resolves <see cref="ConvolutionOptions.Method"/> to a concrete method for these shapes, with the reason;
    /// throws <see cref="ConvolutionRefusedException"/> when the requested method cannot serve the options.
    /// </summary>
    public static MethodChoice Plan(int imageRows, int imageCols, int kernelRows, int kernelCols, ConvolutionOptions options) =>
        Plan(ConvolutionGeometry.Compute(imageRows, imageCols, kernelRows, kernelCols, options), options);

    private static (ConvolutionMethod Method, CostModel.Costs Cost) Choose(in ConvolutionGeometry geometry, in ConvolutionOptions options)
    {
        if (options.Threads < 1)
            throw new ConvolutionRefusedException($"Threads is {options.Threads}: it must be at least 1 (1 = the calling thread only).");
        var cost = CostModel.Estimate(geometry, options.Boundary);
        if (options.NanAware is not null)
        {
            NanAwareConvolution.ValidateShapes(geometry.KernelRows, geometry.KernelCols, options);
            return (ConvolutionMethod.Direct, cost); // a direct sum, as astropy's convolve (fft is refused above)
        }
        switch (options.Method)
        {
            case ConvolutionMethod.Naive:
            case ConvolutionMethod.Direct:
                return (options.Method, cost);
            case ConvolutionMethod.Fft:
                if (!double.IsFinite(options.FillValue))
                    throw new ConvolutionRefusedException(
                        $"Method 'fft' cannot use fill value {options.FillValue}: a non-finite value would spread over the whole transform. " +
                        "Use method 'direct' or 'auto', or a finite fill value.");
                return (ConvolutionMethod.Fft, cost);
            case ConvolutionMethod.Gpu:
                throw new ConvolutionRefusedException(
                    "Method 'gpu' runs on a GPU through ConvService.Gpu, not in the CPU convolver: submit it to the service, which sends it to a node with a CUDA device.");
            case ConvolutionMethod.Auto:
                return (double.IsFinite(options.FillValue) && cost.FftMs < cost.DirectMs ? ConvolutionMethod.Fft : ConvolutionMethod.Direct, cost);
            default:
                throw new ConvolutionRefusedException(
                    $"Unknown method {(int)options.Method}: use 'auto', 'direct', 'fft' or 'naive'.");
        }
    }

    private static MethodChoice Plan(in ConvolutionGeometry geometry, in ConvolutionOptions options)
    {
        var (method, cost) = Choose(geometry, options);
        string shape = $"{geometry.KernelRows}×{geometry.KernelCols} kernel on {geometry.ImageRows}×{geometry.ImageCols}";
        string prefix = options.Method == ConvolutionMethod.Auto ? "" : "requested, ";
        return method switch
        {
            ConvolutionMethod.Naive => new MethodChoice(method, $"naive: requested, {shape}, est. {cost.NaiveMs:0.###} ms", cost.NaiveMs),
            ConvolutionMethod.Fft => new MethodChoice(method,
                $"fft: {prefix}{shape}, transform {cost.FftLy}×{cost.FftLx}, est. {cost.FftMs:0.###} ms vs direct {cost.DirectMs:0.###} ms", cost.FftMs),
            _ when options.NanAware is { } nan => new MethodChoice(method,
                $"direct: NaN-aware (astropy.convolution.convolve, nan_treatment '{nan.Treatment.ToString().ToLowerInvariant()}'), {shape}, est. {cost.DirectMs:0.###} ms", cost.DirectMs),
            _ => new MethodChoice(method, double.IsFinite(options.FillValue)
                ? $"direct: {prefix}{shape}, est. {cost.DirectMs:0.###} ms vs fft {cost.FftMs:0.###} ms"
                : $"direct: {prefix}{shape}, est. {cost.DirectMs:0.###} ms (fft cannot use a non-finite fill value)", cost.DirectMs),
        };
    }
}
