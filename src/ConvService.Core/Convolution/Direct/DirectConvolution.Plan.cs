using System.Buffers;
using System.Runtime.InteropServices;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Convolution.Direct;

// The plan: which kept columns fall in which segment, whether to use the padded copy, the reversed kernel and the
// last-chunk mask, all built and pinned once per convolution so the row loops only read them.
internal sealed unsafe partial class DirectConvolution
{
    /// <summary>Up to this many doubles (256 KiB, half this machine's L2) the boundary-extended copy is used.</summary>
    internal const int PaddedCopyLimit = 1 << 15;

    /// <summary>
    /// Prepares a direct convolution (boundary edge tables, reversed kernel) for geometry <paramref name="g"/>.
    /// The inputs must already be in geometry order (swapped for scipy's valid rule) and the kernel non-empty.
    /// </summary>
    /// <param name="image">The image, in geometry order.</param>
    /// <param name="kernel">The kernel, in geometry order, non-empty.</param>
    /// <param name="g">The geometry.</param>
    /// <param name="options">Boundary and fill value.</param>
    /// <param name="tier">Vector width; by default the widest that suits the kernel (tests force each one).</param>
    /// <param name="paddedCopy">Use one boundary-extended copy instead of per-row edges; by default when small
    /// or when no output column has all its taps inside the image (tests force both ways).</param>
    public static DirectConvolution Prepare(Array2D image, Array2D kernel, in ConvolutionGeometry g, in ConvolutionOptions options,
        VectorTier? tier = null, bool? paddedCopy = null) =>
        new(image, kernel, g, options, tier ?? ChooseTier(g.StrideX, g.KernelCols), paddedCopy);

    /// <summary>
    /// The widest accelerated tier for the lane kernel; for the dot kernel the widest whose vectors are less than
    /// twice the row of taps, so a 2-tap kernel does not pay for 4 lanes of which 2 are masked off.
    /// </summary>
    internal static VectorTier ChooseTier(int strideX, int kernelCols)
    {
        var widest = VectorTiers.Widest;
        if (strideX == 1) return widest;
        var tier = widest;
        while (tier > VectorTier.Scalar && tier.Lanes() >= 2 * kernelCols) tier = (VectorTier)(tier.Lanes() / 2);
        return tier;
    }

    private DirectConvolution(Array2D image, Array2D kernel, in ConvolutionGeometry g, in ConvolutionOptions options, VectorTier tier,
        bool? paddedCopy)
    {
        _p = g.KernelRows; _q = g.KernelCols; _m = g.ImageRows; _n = g.ImageCols;
        _oc = g.OutputCols; _sy = g.StrideY; _oy = g.OriginY; _sx = g.StrideX;
        _boundary = options.Boundary;
        _imageStride = image.Cols;
        _laneKernel = _sx == 1;
        _tier = tier;
        int w = tier.Lanes();
        _qpad = _laneKernel ? _q : (_q + w - 1) / w * w;

        int xmin = g.OriginX - (_q - 1);
        // Interior: xmin + j·sx ≥ 0 and xmin + j·sx + qpad ≤ N, so every read stays inside the image row.
        _jL = (int)Math.Min(_oc, xmin >= 0 ? 0 : CeilDiv(-(long)xmin, _sx));
        long lastStart = (long)_n - _qpad - xmin;
        _jR = lastStart < 0 ? 0 : (int)Math.Min(_oc, lastStart / _sx + 1);
        if (_jR < _jL) _jR = _jL; // no interior: the left segment ends where the right one starts

        // Small inputs, and kernels wider than the image (no interior), are better served by one boundary-extended
        // copy of exactly the region the kept outputs read: per-row edge building would dominate them.
        long extRows = (long)(g.OutputRows - 1) * _sy + _p, extCols = (long)(_oc - 1) * _sx + _qpad;
        _padded = paddedCopy ?? (extRows * extCols <= PaddedCopyLimit || _jL == _jR);
        if (_padded && extRows * extCols > Array.MaxLength) _padded = false;
        if (_padded)
        {
            _jL = 0;
            _jR = _oc;
            _extStride = (int)extCols;
        }
        _leftLen = _jL > 0 ? checked((_jL - 1) * _sx + _qpad) : 0;
        _rightLen = _oc > _jR ? checked((_oc - 1 - _jR) * _sx + _qpad) : 0;
        int fillLen = checked((_oc - 1) * _sx + _qpad + 1);

        _kf = ArrayPool<double>.Shared.Rent(Math.Max(1, checked(_p * _qpad)));
        _mask = ArrayPool<double>.Shared.Rent(w);
        _fill = ArrayPool<double>.Shared.Rent(fillLen);

        for (int k = 0; k < _p; k++)
        {
            var src = kernel.Row(k);
            var dst = _kf.AsSpan(k * _qpad, _qpad);
            for (int m = 0; m < _q; m++) dst[m] = src[_q - 1 - m];
            dst[_q..].Clear();
        }
        // Lanes of the last tap chunk that lie beyond the kernel read image values that must not count, not
        // even as 0·NaN, so they are masked to +0 bit-wise.
        int lastChunkLanes = _q - (_qpad - w);
        for (int l = 0; l < w; l++)
            _mask[l] = l < lastChunkLanes ? BitConverter.Int64BitsToDouble(-1L) : 0.0;
        _fill.AsSpan(0, fillLen).Fill(options.FillValue);
        _fillValue = options.FillValue;
        _xmin = xmin;
        _rightStart = xmin + _jR * _sx;

        _imageHandle = GCHandle.Alloc(image.Data, GCHandleType.Pinned);
        if (_padded)
        {
            _ext = ArrayPool<double>.Shared.Rent(checked((int)(extRows * extCols)));
            _extHandle = GCHandle.Alloc(_ext, GCHandleType.Pinned);
            _extp = (double*)_extHandle.AddrOfPinnedObject();
        }
        _kfHandle = GCHandle.Alloc(_kf, GCHandleType.Pinned);
        _maskHandle = GCHandle.Alloc(_mask, GCHandleType.Pinned);
        _fillHandle = GCHandle.Alloc(_fill, GCHandleType.Pinned);
        _image = (double*)_imageHandle.AddrOfPinnedObject();
        _kfp = (double*)_kfHandle.AddrOfPinnedObject();
        _maskp = (double*)_maskHandle.AddrOfPinnedObject();
        _fillp = (double*)_fillHandle.AddrOfPinnedObject();
        // xmin can be far left of the row (kernel wider than the image); interior bases are only formed for
        // columns ≥ 0, so this offset is applied per row, never as a pointer to before the array.
        _interiorOffset = xmin + _jL * _sx;

        if (_padded)
            BoundaryIndex.ExtendRegion(image, _oy - (_p - 1), xmin, (int)extRows, _extStride, _boundary, _fillValue, _extp, _extStride);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
