using System.Buffers;
using System.Runtime.InteropServices;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Convolution.Direct;

/// <summary>
/// Direct (spatial) convolution, vectorised, computing only the outputs the stride keeps.
/// </summary>
/// <remarks>
/// <para>Kept output (i, j) is Σ_k Σ_m kf[k, m] · ext_k[j·sx + m], where kf is the kernel with each row reversed
/// (so the sum becomes a correlation that walks memory forwards) and ext_k is input row Y_i − k extended to
/// columns xmin … with xmin = OriginX − (Q − 1), boundary applied.</para>
/// <para>The output columns split into three segments. Interior outputs read the image row in place; the few
/// outputs whose taps cross the left or right edge read small boundary-extended copies of the row edges, built
/// per output row; a row outside the image under <c>fill</c> reads a row of fill values. Small inputs (and kernels
/// wider than the image) instead read one boundary-extended copy of the region the kept outputs touch.
/// Either way the inner loops never branch on the boundary, and a large image is never copied.</para>
/// <para>Stride 1 uses the lane kernel: W consecutive outputs per vector, one broadcast tap times W input
/// values. Stride &gt; 1 uses the dot kernel: each output is a dot product of W-wide slices of the input rows
/// with the kernel rows (zero-padded to a whole number of vectors, and the input's excess lanes masked off so
/// NaN/∞ beyond the tap range cannot leak in), summed across all kernel rows before one horizontal add.
/// Both accumulate every kernel row in registers and store each output once.</para>
/// <para>Every output is computed with the same sequence of fused multiply–adds whichever block, band or thread
/// it falls in, so results are bitwise reproducible across thread counts.</para>
/// <para>The class is split by concern: this file holds the state; <c>.Plan.cs</c> builds it (segments, reversed
/// kernel, mask, pinning); <c>.Rows.cs</c> walks a band of output rows and is the one place that picks the vector
/// tier; <c>.LaneKernels.cs</c> (stride 1) and <c>.DotKernels.cs</c> (stride &gt; 1) are the loops, generic over
/// <see cref="IVectorOps{TV}"/>.</para>
/// </remarks>
//
// Symbols, as in the formulas above and the code below:
//   M × N      image rows × columns (geometry order: scipy's valid rule may have swapped image and kernel)   _m, _n
//   P × Q      kernel rows × columns                                                                        _p, _q
//   i, j       kept output row, column; oc = kept output columns                                            _oc
//   sy, sx     row, column stride                                                                           _sy, _sx
//   oy         full-output row of kept output row 0 (OriginY); kept row i reads input rows oy + i·sy − k
//   k, m       kernel row, tap within the row (column of the reversed kernel kf)
//   u          input row of a row pair: rows[u] feeds output row 1 with kernel row u, row 0 with u − 1
//   kf         the kernel, rows reversed, each row qpad long (zero-padded)                                  _kf, _kfp
//   W, w       lanes per vector of the chosen tier (8, 4, 2 or 1)                                           _tier
//   qpad       Q for the lane kernel; Q rounded up to a multiple of W for the dot kernel                    _qpad
//   xmin       input column that tap 0 of kept column 0 reads: OriginX − (Q − 1); may be negative          _xmin
//   jL, jR     kept columns [0, jL) read the left edge copy, [jL, jR) the image in place, [jR, oc) the right edge copy
//   bases      P row pointers, one per kernel row, for one segment of one output row
//   ext        the padded copy: rows OriginY − (P − 1) …, columns xmin …, boundary applied                _ext, _extp
internal sealed unsafe partial class DirectConvolution : IRowBandRunner
{
    // The kernels are marked AggressiveOptimization: under tiered compilation they would otherwise run as
    // instrumented tier-0 code (≈10× slower) for the first requests of a process, and a short-lived job never
    // gets past that.

    private readonly int _p, _q, _m, _n, _oc, _sy, _oy, _sx, _qpad, _leftLen, _rightLen, _imageStride;
    private readonly int _jL, _jR;
    private readonly BoundaryMode _boundary;
    private readonly VectorTier _tier;
    private readonly bool _laneKernel;
    private readonly double _fillValue;
    private readonly int _xmin, _rightStart;
    /// <summary>xmin + jL·sx: where the interior segment starts in an image row.</summary>
    private readonly int _interiorOffset;

    // Pinned for the object's lifetime; returned to the pool on Dispose.
    private readonly double[] _kf, _mask, _fill;
    private GCHandle _imageHandle, _kfHandle, _maskHandle, _fillHandle;
    private readonly double* _image, _kfp, _maskp, _fillp;

    // The padded copy, when used (small inputs, or no interior): every segment reads it instead of the image.
    private readonly bool _padded;
    private readonly int _extStride;
    private readonly double[]? _ext;
    private GCHandle _extHandle;
    private readonly double* _extp;

    /// <summary>Unpins and returns the pooled buffers.</summary>
    public void Dispose()
    {
        if (!_imageHandle.IsAllocated) return;
        _imageHandle.Free(); _kfHandle.Free(); _maskHandle.Free(); _fillHandle.Free();
        if (_ext is not null)
        {
            _extHandle.Free();
            ArrayPool<double>.Shared.Return(_ext);
        }
        ArrayPool<double>.Shared.Return(_kf);
        ArrayPool<double>.Shared.Return(_mask);
        ArrayPool<double>.Shared.Return(_fill);
    }
}
