using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Convolution;

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
/// </remarks>
internal sealed unsafe class DirectConvolution : IRowBandRunner
{
    // The kernels are marked AggressiveOptimization: under tiered compilation they would otherwise run as
    // instrumented tier-0 code (≈10× slower) for the first requests of a process, and a short-lived job never
    // gets past that.

    private readonly int _p, _q, _m, _n, _oc, _sy, _oy, _sx, _qpad, _leftLen, _rightLen, _imageStride;
    private readonly int _jL, _jR;
    private readonly BoundaryMode _boundary;
    private readonly VectorTier _tier;
    private readonly bool _laneKernel;

    // Pinned for the object's lifetime; returned to the pool on Dispose.
    private readonly double[] _kf, _mask, _fill;
    private GCHandle _imageHandle, _kfHandle, _maskHandle, _fillHandle;
    private readonly double* _image, _kfp, _maskp, _fillp;

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

    /// <summary>Up to this many doubles (256 KiB, half this machine's L2) the boundary-extended copy is used.</summary>
    internal const int PaddedCopyLimit = 1 << 15;

    private readonly bool _padded;
    private readonly int _extStride;
    private readonly double[]? _ext;
    private GCHandle _extHandle;
    private readonly double* _extp;

    private readonly double _fillValue;
    private readonly int _xmin, _rightStart;
    private readonly int _interiorOffset;

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

    /// <summary>Fills dst[t], t &lt; count, with image row <paramref name="r"/>'s value at column <paramref name="start"/> + t.</summary>
    private void ExtendRow(int r, int start, double* dst, int count) =>
        BoundaryIndex.ExtendRow(_image + (long)r * _imageStride, _n, start, dst, count, _boundary, _fillValue);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunRows(Array2D output, int firstRow, int endRow)
    {
        // Per band: P row pointers for each of the three segments of two output rows, the P + 1 distinct input
        // rows of a row pair, and each kernel row's boundary-extended edges for two output rows, rebuilt per
        // output row from rows the interior pass is about to stream through anyway.
        int edgeLen = checked(_p * (_leftLen + _rightLen));
        nint[] rented = ArrayPool<nint>.Shared.Rent(7 * _p + 1);
        double[] edges = ArrayPool<double>.Shared.Rent(Math.Max(1, 2 * edgeLen));
        try
        {
            fixed (nint* bases = rented)
            fixed (double* edgep = edges)
            fixed (double* outp = output.Data)
            {
                double** left0 = (double**)bases, mid0 = left0 + _p, right0 = mid0 + _p;
                double** left1 = right0 + _p, mid1 = left1 + _p, right1 = mid1 + _p, pairRows = right1 + _p;
                bool pairs = _laneKernel && _sy == 1;
                int i = firstRow;
                while (i < endRow)
                {
                    RowBases(i, left0, mid0, right0, edgep);
                    double* dst0 = outp + (long)i * _oc;
                    if (pairs && i + 1 < endRow)
                    {
                        RowBases(i + 1, left1, mid1, right1, edgep + edgeLen);
                        double* dst1 = dst0 + _oc;
                        // With stride 1, row i+1's kernel row k reads the input row that row i's kernel row k−1 reads
                        // (unless symm/wrap folded them apart), so P + 1 input rows feed both output rows.
                        bool chained = true;
                        for (int k = 1; k < _p; k++) chained &= mid1[k] == mid0[k - 1];
                        if (chained)
                        {
                            pairRows[0] = mid1[0];
                            for (int u = 1; u <= _p; u++) pairRows[u] = mid0[u - 1];
                            Segment(left0, dst0, _jL);
                            Segment(left1, dst1, _jL);
                            PairSegment(pairRows, mid0, mid1, dst0 + _jL, dst1 + _jL, _jR - _jL,
                                i + 3 < endRow ? InteriorRow(i + 2) : null, i + 3 < endRow ? InteriorRow(i + 3) : null);
                            Segment(right0, dst0 + _jR, _oc - _jR);
                            Segment(right1, dst1 + _jR, _oc - _jR);
                        }
                        else
                        {
                            RowSegments(left0, mid0, right0, dst0);
                            RowSegments(left1, mid1, right1, dst1);
                        }
                        i += 2;
                        continue;
                    }
                    RowSegments(left0, mid0, right0, dst0);
                    i++;
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(edges);
            ArrayPool<nint>.Shared.Return(rented);
        }
    }

    /// <summary>Row pointers of kept output row <paramref name="i"/> for each kernel row and segment; builds its edges in <paramref name="edgep"/>.</summary>
    private void RowBases(int i, double** left, double** mid, double** right, double* edgep)
    {
        if (_padded)
        {
            // Extended row u holds image row OriginY − (P − 1) + u, so output row i, kernel row k reads row i·sy + P − 1 − k.
            for (int k = 0; k < _p; k++) mid[k] = _extp + ((long)i * _sy + _p - 1 - k) * _extStride;
            return;
        }
        int y = _oy + i * _sy;
        for (int k = 0; k < _p; k++)
        {
            int r = y - k;
            if (_m > 0 && BoundaryIndex.Resolve(ref r, _m, _boundary))
            {
                left[k] = edgep + (long)k * _leftLen;
                ExtendRow(r, _xmin, left[k], _leftLen);
                mid[k] = _image + (long)r * _imageStride + _interiorOffset;
                right[k] = edgep + (long)_p * _leftLen + (long)k * _rightLen;
                ExtendRow(r, _rightStart, right[k], _rightLen);
            }
            else
            {
                left[k] = mid[k] = right[k] = _fillp;
            }
        }
    }

    private void RowSegments(double** left, double** mid, double** right, double* dst)
    {
        Segment(left, dst, _jL);
        Segment(mid, dst + _jL, _jR - _jL);
        Segment(right, dst + _jR, _oc - _jR);
    }

    /// <summary>
    /// The interior of the image row that kernel row 0 of kept output row <paramref name="i"/> reads (the row a pair
    /// starting there reads first), or null where that row is outside the image or the padded copy is used: those
    /// are small and already in cache.
    /// </summary>
    private double* InteriorRow(int i)
    {
        if (_padded) return null;
        int r = _oy + i * _sy;
        if (_m == 0 || !BoundaryIndex.Resolve(ref r, _m, _boundary)) return null;
        return _image + (long)r * _imageStride + _interiorOffset;
    }

    private void PairSegment(double** rows, double** mid0, double** mid1, double* dst0, double* dst1, int count, double* ahead0, double* ahead1)
    {
        if (count <= 0) return;
        switch (_tier)
        {
            case VectorTier.V512: PairSegment<Vector512Ops, Vector512<double>>(rows, mid0, mid1, dst0, dst1, count, ahead0, ahead1); break;
            case VectorTier.V256: PairSegment<Vector256Ops, Vector256<double>>(rows, mid0, mid1, dst0, dst1, count, ahead0, ahead1); break;
            case VectorTier.V128: PairSegment<Vector128Ops, Vector128<double>>(rows, mid0, mid1, dst0, dst1, count, ahead0, ahead1); break;
            default: PairSegment<ScalarOps, double>(rows, mid0, mid1, dst0, dst1, count, ahead0, ahead1); break;
        }
    }

    private void PairSegment<TOps, TV>(double** rows, double** mid0, double** mid1, double* dst0, double* dst1, int count, double* ahead0, double* ahead1)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int done = _q == 4
            ? LanePairKernel4<TOps, TV>(rows, _p, _kfp, dst0, dst1, count, ahead0, ahead1)
            : LanePairKernel<TOps, TV>(rows, _p, _kfp, _q, dst0, dst1, count, ahead0, ahead1);
        LaneKernel<TOps, TV>(mid0, _p, _kfp, _q, dst0, done, count);
        LaneKernel<TOps, TV>(mid1, _p, _kfp, _q, dst1, done, count);
    }

    private void Segment(double** bases, double* dst, int count)
    {
        if (count <= 0) return;
        switch (_tier)
        {
            case VectorTier.V512: Segment<Vector512Ops, Vector512<double>>(bases, dst, count); break;
            case VectorTier.V256: Segment<Vector256Ops, Vector256<double>>(bases, dst, count); break;
            case VectorTier.V128: Segment<Vector128Ops, Vector128<double>>(bases, dst, count); break;
            default: Segment<ScalarOps, double>(bases, dst, count); break;
        }
    }

    private void Segment<TOps, TV>(double** bases, double* dst, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        if (_laneKernel) LaneKernel<TOps, TV>(bases, _p, _kfp, _q, dst, 0, count);
        else DotKernel<TOps, TV>(bases, _p, _kfp, _qpad, TOps.Load(_maskp), _q == _qpad, _sx, dst, count);
    }

    /// <summary>
    /// Stride-1 kernel: dst[j] = Σ_k Σ_m kf[k·q + m] · bases[k][j + m] for j in [<paramref name="start"/>, count).
    /// Four vectors of outputs per block share each broadcast tap; the tail is one overlapped vector (recomputing
    /// a few outputs bit-identically) or, for segments narrower than a vector, the same sum one output at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void LaneKernel<TOps, TV>(double** bases, int p, double* kf, int q, double* dst, int start, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        int j = start;
        for (; j <= count - 4 * w; j += 4 * w)
        {
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            for (int k = 0; k < p; k++)
            {
                double* s = bases[k] + j;
                double* kr = kf + k * q;
                for (int m = 0; m < q; m++)
                {
                    TV t = TOps.Broadcast(kr[m]);
                    double* sm = s + m;
                    a0 = TOps.MultiplyAdd(TOps.Load(sm), t, a0);
                    a1 = TOps.MultiplyAdd(TOps.Load(sm + w), t, a1);
                    a2 = TOps.MultiplyAdd(TOps.Load(sm + 2 * w), t, a2);
                    a3 = TOps.MultiplyAdd(TOps.Load(sm + 3 * w), t, a3);
                }
            }
            TOps.Store(dst + j, a0);
            TOps.Store(dst + j + w, a1);
            TOps.Store(dst + j + 2 * w, a2);
            TOps.Store(dst + j + 3 * w, a3);
        }
        for (; j <= count - w; j += w)
            TOps.Store(dst + j, LaneVector<TOps, TV>(bases, p, kf, q, j));
        if (j >= count) return;
        if (count >= w)
        {
            TOps.Store(dst + count - w, LaneVector<TOps, TV>(bases, p, kf, q, count - w));
            return;
        }
        for (; j < count; j++)
        {
            double sum = 0;
            for (int k = 0; k < p; k++)
            {
                double* s = bases[k] + j;
                double* kr = kf + k * q;
                for (int m = 0; m < q; m++) sum = Math.FusedMultiplyAdd(s[m], kr[m], sum);
            }
            dst[j] = sum;
        }
    }

    /// <summary>
    /// Stride-1 kernel for two adjacent output rows that share input rows: rows[u] (u = 0..P) feeds row 1 with kernel
    /// row u and row 0 with kernel row u − 1, so each input vector is loaded once for two FMAs. Per output the FMAs
    /// run in the same order as <see cref="LaneKernel{TOps, TV}"/>, so results are bit-identical to it.
    /// Returns how many leading outputs it computed (whole blocks only).
    /// </summary>
    /// <remarks>
    /// <paramref name="ahead0"/> and <paramref name="ahead1"/>, when not null, are the two input rows the next pair
    /// will read first: each block prefetches the same columns of them into L2, so that pair finds them there
    /// instead of waiting on memory. The hardware prefetchers follow the rows being read, not the rows about to be;
    /// measured on the reference VM (A/B interleaved in one process, 3000×3000 ⊛ 4×4 full): 5–10 % less time per
    /// convolution, the same with an L1 hint or two pairs ahead, and nothing from prefetching the output rows.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int LanePairKernel<TOps, TV>(double** rows, int p, double* kf, int q, double* dst0, double* dst1, int count,
        double* ahead0 = null, double* ahead1 = null)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        int j = 0;
        bool prefetch = Sse.IsSupported && ahead0 != null && ahead1 != null;
        for (; j <= count - 4 * w; j += 4 * w)
        {
            if (prefetch) PrefetchAhead(ahead0, ahead1, j, 4 * w);
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            TV b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
            // u = 0: only output row 1 (kernel row 0).
            {
                double* s = rows[0] + j;
                for (int m = 0; m < q; m++)
                {
                    TV t = TOps.Broadcast(kf[m]);
                    double* sm = s + m;
                    b0 = TOps.MultiplyAdd(TOps.Load(sm), t, b0);
                    b1 = TOps.MultiplyAdd(TOps.Load(sm + w), t, b1);
                    b2 = TOps.MultiplyAdd(TOps.Load(sm + 2 * w), t, b2);
                    b3 = TOps.MultiplyAdd(TOps.Load(sm + 3 * w), t, b3);
                }
            }
            for (int u = 1; u < p; u++)
            {
                double* s = rows[u] + j;
                double* k0 = kf + (u - 1) * q; // row 0 uses kernel row u − 1
                double* k1 = k0 + q;           // row 1 uses kernel row u
                for (int m = 0; m < q; m++)
                {
                    TV t0 = TOps.Broadcast(k0[m]);
                    TV t1 = TOps.Broadcast(k1[m]);
                    double* sm = s + m;
                    TV v0 = TOps.Load(sm), v1 = TOps.Load(sm + w), v2 = TOps.Load(sm + 2 * w), v3 = TOps.Load(sm + 3 * w);
                    a0 = TOps.MultiplyAdd(v0, t0, a0);
                    a1 = TOps.MultiplyAdd(v1, t0, a1);
                    a2 = TOps.MultiplyAdd(v2, t0, a2);
                    a3 = TOps.MultiplyAdd(v3, t0, a3);
                    b0 = TOps.MultiplyAdd(v0, t1, b0);
                    b1 = TOps.MultiplyAdd(v1, t1, b1);
                    b2 = TOps.MultiplyAdd(v2, t1, b2);
                    b3 = TOps.MultiplyAdd(v3, t1, b3);
                }
            }
            // u = P: only output row 0 (kernel row P − 1).
            {
                double* s = rows[p] + j;
                double* k0 = kf + (p - 1) * q;
                for (int m = 0; m < q; m++)
                {
                    TV t = TOps.Broadcast(k0[m]);
                    double* sm = s + m;
                    a0 = TOps.MultiplyAdd(TOps.Load(sm), t, a0);
                    a1 = TOps.MultiplyAdd(TOps.Load(sm + w), t, a1);
                    a2 = TOps.MultiplyAdd(TOps.Load(sm + 2 * w), t, a2);
                    a3 = TOps.MultiplyAdd(TOps.Load(sm + 3 * w), t, a3);
                }
            }
            StoreBlock<TOps, TV>(dst0 + j, dst1 + j, a0, a1, a2, a3, b0, b1, b2, b3);
        }
        return j;
    }

    /// <summary>
    /// <see cref="LanePairKernel{TOps, TV}"/> for kernels 4 taps wide (the tutorial's 4×4), with the middle rows' tap
    /// loop written out: the same loads, FMAs in the same order (bit-identical results) and prefetches, without the
    /// loop's counter, compare and branch around every 8 FMAs. The first and last rows (4 FMAs per tap) keep a loop:
    /// written out they were no faster, while a helper taking the 8 accumulators by reference made the JIT spill them.
    /// The JIT does not unroll a loop whose trip count is a constant (checked in .NET 10's disassembly with the count
    /// as a generic constant), so this is written by hand.
    /// Measured on the reference VM, A/B interleaved in one process: 10–15 % less time per 3000×3000 ⊛ 4×4
    /// full-resolution convolution, from memory and in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int LanePairKernel4<TOps, TV>(double** rows, int p, double* kf, double* dst0, double* dst1, int count,
        double* ahead0, double* ahead1)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        int j = 0;
        bool prefetch = Sse.IsSupported && ahead0 != null && ahead1 != null;
        double* kLast = kf + (p - 1) * 4;
        for (; j <= count - 4 * w; j += 4 * w)
        {
            if (prefetch) PrefetchAhead(ahead0, ahead1, j, 4 * w);
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            TV b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
            // u = 0: only output row 1 (kernel row 0); u = P: only output row 0 (kernel row P − 1), after the middle rows.
            EdgeRow4<TOps, TV>(rows[0] + j, kf, ref b0, ref b1, ref b2, ref b3);
            for (int u = 1; u < p; u++)
            {
                double* s = rows[u] + j;
                double* k0 = kf + (u - 1) * 4; // row 0 uses kernel row u − 1
                double* k1 = k0 + 4;           // row 1 uses kernel row u
                {
                    TV t0 = TOps.Broadcast(k0[0]), t1 = TOps.Broadcast(k1[0]);
                    double* sm = s + 0;
                    TV v0 = TOps.Load(sm), v1 = TOps.Load(sm + w), v2 = TOps.Load(sm + 2 * w), v3 = TOps.Load(sm + 3 * w);
                    a0 = TOps.MultiplyAdd(v0, t0, a0); a1 = TOps.MultiplyAdd(v1, t0, a1); a2 = TOps.MultiplyAdd(v2, t0, a2); a3 = TOps.MultiplyAdd(v3, t0, a3);
                    b0 = TOps.MultiplyAdd(v0, t1, b0); b1 = TOps.MultiplyAdd(v1, t1, b1); b2 = TOps.MultiplyAdd(v2, t1, b2); b3 = TOps.MultiplyAdd(v3, t1, b3);
                }
                {
                    TV t0 = TOps.Broadcast(k0[1]), t1 = TOps.Broadcast(k1[1]);
                    double* sm = s + 1;
                    TV v0 = TOps.Load(sm), v1 = TOps.Load(sm + w), v2 = TOps.Load(sm + 2 * w), v3 = TOps.Load(sm + 3 * w);
                    a0 = TOps.MultiplyAdd(v0, t0, a0); a1 = TOps.MultiplyAdd(v1, t0, a1); a2 = TOps.MultiplyAdd(v2, t0, a2); a3 = TOps.MultiplyAdd(v3, t0, a3);
                    b0 = TOps.MultiplyAdd(v0, t1, b0); b1 = TOps.MultiplyAdd(v1, t1, b1); b2 = TOps.MultiplyAdd(v2, t1, b2); b3 = TOps.MultiplyAdd(v3, t1, b3);
                }
                {
                    TV t0 = TOps.Broadcast(k0[2]), t1 = TOps.Broadcast(k1[2]);
                    double* sm = s + 2;
                    TV v0 = TOps.Load(sm), v1 = TOps.Load(sm + w), v2 = TOps.Load(sm + 2 * w), v3 = TOps.Load(sm + 3 * w);
                    a0 = TOps.MultiplyAdd(v0, t0, a0); a1 = TOps.MultiplyAdd(v1, t0, a1); a2 = TOps.MultiplyAdd(v2, t0, a2); a3 = TOps.MultiplyAdd(v3, t0, a3);
                    b0 = TOps.MultiplyAdd(v0, t1, b0); b1 = TOps.MultiplyAdd(v1, t1, b1); b2 = TOps.MultiplyAdd(v2, t1, b2); b3 = TOps.MultiplyAdd(v3, t1, b3);
                }
                {
                    TV t0 = TOps.Broadcast(k0[3]), t1 = TOps.Broadcast(k1[3]);
                    double* sm = s + 3;
                    TV v0 = TOps.Load(sm), v1 = TOps.Load(sm + w), v2 = TOps.Load(sm + 2 * w), v3 = TOps.Load(sm + 3 * w);
                    a0 = TOps.MultiplyAdd(v0, t0, a0); a1 = TOps.MultiplyAdd(v1, t0, a1); a2 = TOps.MultiplyAdd(v2, t0, a2); a3 = TOps.MultiplyAdd(v3, t0, a3);
                    b0 = TOps.MultiplyAdd(v0, t1, b0); b1 = TOps.MultiplyAdd(v1, t1, b1); b2 = TOps.MultiplyAdd(v2, t1, b2); b3 = TOps.MultiplyAdd(v3, t1, b3);
                }
            }
            EdgeRow4<TOps, TV>(rows[p] + j, kLast, ref a0, ref a1, ref a2, ref a3);
            StoreBlock<TOps, TV>(dst0 + j, dst1 + j, a0, a1, a2, a3, b0, b1, b2, b3);
        }
        return j;
    }

    /// <summary>Stores a pair kernel's block: four vectors of output row 0 at <paramref name="dst0"/>, four of row 1 at <paramref name="dst1"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreBlock<TOps, TV>(double* dst0, double* dst1, TV a0, TV a1, TV a2, TV a3, TV b0, TV b1, TV b2, TV b3)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        TOps.Store(dst0, a0);
        TOps.Store(dst0 + w, a1);
        TOps.Store(dst0 + 2 * w, a2);
        TOps.Store(dst0 + 3 * w, a3);
        TOps.Store(dst1, b0);
        TOps.Store(dst1 + w, b1);
        TOps.Store(dst1 + 2 * w, b2);
        TOps.Store(dst1 + 3 * w, b3);
    }

    /// <summary>One input row times one 4-tap kernel row into four accumulators (a block's first or last row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EdgeRow4<TOps, TV>(double* s, double* taps, ref TV c0, ref TV c1, ref TV c2, ref TV c3)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        for (int m = 0; m < 4; m++)
        {
            TV t = TOps.Broadcast(taps[m]);
            double* sm = s + m;
            c0 = TOps.MultiplyAdd(TOps.Load(sm), t, c0);
            c1 = TOps.MultiplyAdd(TOps.Load(sm + w), t, c1);
            c2 = TOps.MultiplyAdd(TOps.Load(sm + 2 * w), t, c2);
            c3 = TOps.MultiplyAdd(TOps.Load(sm + 3 * w), t, c3);
        }
    }


    /// <summary>Prefetches into L2 columns [j, j + count) of the two rows the next row pair reads first, one per 64-byte line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(double* ahead0, double* ahead1, int j, int count)
    {
        // A prefetch never faults, so the last block may reach past a row's end.
        for (int o = 0; o < count; o += 8)
        {
            Sse.Prefetch1(ahead0 + j + o);
            Sse.Prefetch1(ahead1 + j + o);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LaneVector<TOps, TV>(double** bases, int p, double* kf, int q, int j)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        TV a = TOps.Zero;
        for (int k = 0; k < p; k++)
        {
            double* s = bases[k] + j;
            double* kr = kf + k * q;
            for (int m = 0; m < q; m++) a = TOps.MultiplyAdd(TOps.Load(s + m), TOps.Broadcast(kr[m]), a);
        }
        return a;
    }

    /// <summary>
    /// Strided kernel: dst[j] = Σ_k Σ_m kf[k·qpad + m] · bases[k][j·sx + m], the taps taken W at a time
    /// (qpad a multiple of W, kernel zero-padded, last chunk of input masked). Four outputs per block share each
    /// kernel-vector load and keep four independent FMA chains in flight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DotKernel<TOps, TV>(double** bases, int p, double* kf, int qpad, TV mask, bool unmasked, int sx, double* dst, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        int lastChunk = qpad - w;
        int j = lastChunk != 0 ? 0
            : unmasked ? DotKernelOneChunk<TOps, TV, NoLaneMask>(bases, p, kf, mask, sx, dst, count)
            : DotKernelOneChunk<TOps, TV, LaneMask>(bases, p, kf, mask, sx, dst, count);
        for (; j <= count - 4; j += 4)
        {
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            for (int k = 0; k < p; k++)
            {
                double* s0 = bases[k] + (long)j * sx;
                double* s1 = s0 + sx, s2 = s1 + sx, s3 = s2 + sx;
                double* kr = kf + k * qpad;
                for (int c = 0; c < lastChunk; c += w)
                {
                    TV kv = TOps.Load(kr + c);
                    a0 = TOps.MultiplyAdd(TOps.Load(s0 + c), kv, a0);
                    a1 = TOps.MultiplyAdd(TOps.Load(s1 + c), kv, a1);
                    a2 = TOps.MultiplyAdd(TOps.Load(s2 + c), kv, a2);
                    a3 = TOps.MultiplyAdd(TOps.Load(s3 + c), kv, a3);
                }
                TV kl = TOps.Load(kr + lastChunk);
                a0 = TOps.MultiplyAdd(TOps.BitwiseAnd(TOps.Load(s0 + lastChunk), mask), kl, a0);
                a1 = TOps.MultiplyAdd(TOps.BitwiseAnd(TOps.Load(s1 + lastChunk), mask), kl, a1);
                a2 = TOps.MultiplyAdd(TOps.BitwiseAnd(TOps.Load(s2 + lastChunk), mask), kl, a2);
                a3 = TOps.MultiplyAdd(TOps.BitwiseAnd(TOps.Load(s3 + lastChunk), mask), kl, a3);
            }
            TOps.StoreSums(dst + j, a0, a1, a2, a3);
        }
        for (; j < count; j++)
        {
            TV a = TOps.Zero;
            for (int k = 0; k < p; k++)
            {
                double* s = bases[k] + (long)j * sx;
                double* kr = kf + k * qpad;
                for (int c = 0; c < lastChunk; c += w)
                    a = TOps.MultiplyAdd(TOps.Load(s + c), TOps.Load(kr + c), a);
                a = TOps.MultiplyAdd(TOps.BitwiseAnd(TOps.Load(s + lastChunk), mask), TOps.Load(kr + lastChunk), a);
            }
            dst[j] = TOps.Sum(a);
        }
    }

    /// <summary>
    /// <see cref="DotKernel{TOps, TV}"/>'s blocks for kernels no wider than one vector (the tutorial's 4×4 with
    /// Vector256): no chunk loop around the taps, and with <see cref="NoLaneMask"/> no mask where every lane is a tap
    /// (multiplying by a zero-padded tap is not enough where the input may hold NaN or ∞; a full-width kernel has no
    /// padded tap). Measured on the reference VM for the tutorial's rows in cache: 2.9–4.1 ns per output against
    /// 4.1–5.3 for the general loop. Same FMA order, same results. Returns how many leading outputs it computed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DotKernelOneChunk<TOps, TV, TMask>(double** bases, int p, double* kf, TV mask, int sx, double* dst, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct where TMask : struct, ILaneMask
    {
        int w = TOps.Count;
        int j = 0;
        for (; j <= count - 4; j += 4)
        {
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            long offset = (long)j * sx;
            for (int k = 0; k < p; k++)
            {
                double* s0 = bases[k] + offset;
                TV kv = TOps.Load(kf + k * w);
                a0 = TOps.MultiplyAdd(Masked<TOps, TV, TMask>(TOps.Load(s0), mask), kv, a0);
                a1 = TOps.MultiplyAdd(Masked<TOps, TV, TMask>(TOps.Load(s0 + sx), mask), kv, a1);
                a2 = TOps.MultiplyAdd(Masked<TOps, TV, TMask>(TOps.Load(s0 + 2 * sx), mask), kv, a2);
                a3 = TOps.MultiplyAdd(Masked<TOps, TV, TMask>(TOps.Load(s0 + 3 * sx), mask), kv, a3);
            }
            TOps.StoreSums(dst + j, a0, a1, a2, a3);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Masked<TOps, TV, TMask>(TV value, TV mask)
        where TOps : struct, IVectorOps<TV> where TV : struct where TMask : struct, ILaneMask =>
        TMask.Apply ? TOps.BitwiseAnd(value, mask) : value;

    /// <summary>Whether a kernel masks off input lanes beyond the taps; a type parameter so each variant compiles without the test.</summary>
    private interface ILaneMask
    {
        static abstract bool Apply { get; }
    }

    private readonly struct LaneMask : ILaneMask
    {
        public static bool Apply => true;
    }

    private readonly struct NoLaneMask : ILaneMask
    {
        public static bool Apply => false;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

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
