using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>
/// Where each kept output sits in the full convolution, after scipy's <c>valid</c>-mode input swap,
/// the mode's crop and the stride: kept output (i, j) is full output
/// (<see cref="OriginY"/> + i·<see cref="StrideY"/>, <see cref="OriginX"/> + j·<see cref="StrideX"/>),
/// and full output (y, x) = Σ kernel[k, l] · image(y − k, x − l) with out-of-range reads resolved by the boundary.
/// </summary>
/// <param name="ImageRows">Rows of the (possibly swapped) image.</param>
/// <param name="ImageCols">Columns of the (possibly swapped) image.</param>
/// <param name="KernelRows">Rows of the (possibly swapped) kernel.</param>
/// <param name="KernelCols">Columns of the (possibly swapped) kernel.</param>
/// <param name="Swapped">True when scipy's valid-mode rule swapped image and kernel.</param>
/// <param name="OriginY">Full-output row of kept output row 0.</param>
/// <param name="OriginX">Full-output column of kept output column 0.</param>
/// <param name="StrideY">Row stride.</param>
/// <param name="StrideX">Column stride.</param>
/// <param name="OutputRows">Kept output rows.</param>
/// <param name="OutputCols">Kept output columns.</param>
public readonly record struct ConvolutionGeometry(
    int ImageRows, int ImageCols, int KernelRows, int KernelCols, bool Swapped,
    int OriginY, int OriginX, int StrideY, int StrideX, int OutputRows, int OutputCols)
{
    /// <summary>Number of kept outputs.</summary>
    public long OutputLength => (long)OutputRows * OutputCols;

    /// <summary>Multiply–adds a direct method performs: kept outputs × kernel taps.</summary>
    public double DirectMultiplyAdds => (double)OutputLength * KernelRows * KernelCols;

    /// <summary>
    /// Validates shapes and options the way scipy does and computes the geometry, without allocating.
    /// Throws <see cref="ConvolutionRefusedException"/> for every case scipy refuses or cannot compute.
    /// </summary>
    public static ConvolutionGeometry Compute(int imageRows, int imageCols, int kernelRows, int kernelCols, in ConvolutionOptions options)
    {
        if (options.StrideY < 1 || options.StrideX < 1)
            throw new ConvolutionRefusedException(
                $"Stride ({options.StrideY}, {options.StrideX}) is invalid: both strides must be integers ≥ 1 (1 keeps every output).");
        if (!Enum.IsDefined(options.Mode))
            throw new ConvolutionRefusedException($"Unknown mode {(int)options.Mode}: use full, same or valid.");
        if (!Enum.IsDefined(options.Operation))
            throw new ConvolutionRefusedException($"Unknown operation {(int)options.Operation}: use convolve or correlate.");
        if (!Enum.IsDefined(options.Boundary))
            throw new ConvolutionRefusedException($"Unknown boundary {(int)options.Boundary}: use fill, wrap or symm.");

        bool swapped = false;
        if (options.Mode == ConvolutionMode.Valid)
        {
            // scipy's _inputs_swap_needed: one input must be at least as large as the other on both axes.
            bool imageCovers = imageRows >= kernelRows && imageCols >= kernelCols;
            bool kernelCovers = kernelRows >= imageRows && kernelCols >= imageCols;
            if (!imageCovers && !kernelCovers)
                throw new ConvolutionRefusedException(
                    $"For 'valid' mode, one input must be at least as large as the other in every dimension " +
                    $"(scipy refuses this too): image is {imageRows}×{imageCols}, kernel is {kernelRows}×{kernelCols}. " +
                    "Use mode 'same' or 'full', or crop one input so it fits inside the other.");
            if (!imageCovers)
            {
                swapped = true;
                (imageRows, kernelRows) = (kernelRows, imageRows);
                (imageCols, kernelCols) = (kernelCols, imageCols);
            }
        }

        if (options.Mode == ConvolutionMode.Full && (imageRows + kernelRows == 0 || imageCols + kernelCols == 0))
            // full is (M+P-1)×(N+Q-1): an axis where both inputs are empty has length −1, which numpy refuses.
            throw new ConvolutionRefusedException(
                $"Mode 'full' needs at least one input with a non-empty axis, but the image is {imageRows}×{imageCols} and " +
                $"the kernel is {kernelRows}×{kernelCols}, so the output would have a negative size (scipy refuses this too). " +
                "Give the image or the kernel at least one element along each axis.");

        long fullRows = (long)imageRows + kernelRows - 1, fullCols = (long)imageCols + kernelCols - 1;
        (long rows, long cols, int originY, int originX) = options.Mode switch
        {
            ConvolutionMode.Full => (fullRows, fullCols, 0, 0),
            // scipy centres 'same' on the full output with offset (P-1)>>1, the C code's convention. correlate2d walks the
            // unflipped kernel from m − ((P−1)>>1), which in the frame of a convolution with the rotated kernel is
            // offset (P−1) − ((P−1)>>1): the same for odd P, one more for even P.
            ConvolutionMode.Same => ((long)imageRows, (long)imageCols, SameOrigin(kernelRows, options.Operation), SameOrigin(kernelCols, options.Operation)),
            _ => ((long)imageRows - kernelRows + 1, (long)imageCols - kernelCols + 1, kernelRows - 1, kernelCols - 1),
        };
        rows = Math.Max(rows, 0);
        cols = Math.Max(cols, 0);

        if ((imageRows == 0 || imageCols == 0) && options.Boundary != BoundaryMode.Fill
            && options.Mode != ConvolutionMode.Valid && rows > 0 && cols > 0)
            // scipy divides by the image size here and crashes the interpreter; there is nothing to wrap or mirror.
            // ('same' output is as empty as the image, and 'valid' never reads the boundary, so those are answered.)
            throw new ConvolutionRefusedException(
                $"Boundary '{options.Boundary.ToString().ToLowerInvariant()}' needs a non-empty image, but the image is {imageRows}×{imageCols}. " +
                "Use boundary 'fill', or send an image with at least one row and one column.");

        long keptRows = (rows + options.StrideY - 1) / options.StrideY;
        long keptCols = (cols + options.StrideX - 1) / options.StrideX;
        if (keptRows * keptCols > Array.MaxLength)
            throw new ConvolutionRefusedException(
                $"The output would be {keptRows}×{keptCols} values, more than one array can hold. Use a larger stride, mode 'same' or 'valid', or smaller inputs.");

        return new ConvolutionGeometry(imageRows, imageCols, kernelRows, kernelCols, swapped,
            originY, originX, options.StrideY, options.StrideX, (int)keptRows, (int)keptCols);
    }

    private static int SameOrigin(int kernelLength, ConvolutionOperation operation) =>
        operation == ConvolutionOperation.Correlate ? (kernelLength - 1) - ((kernelLength - 1) >> 1) : (kernelLength - 1) >> 1;
}
