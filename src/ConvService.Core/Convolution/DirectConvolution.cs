using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// once per call for every image row; a row outside the image under <c>fill</c> reads a row of fill values.
/// So the inner loops never branch on the boundary and never copy the bulk of the image.</para>
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
    private readonly int _p, _q, _m, _n, _oc, _sy, _oy, _sx, _qpad, _jL, _jR, _leftLen, _rightLen, _imageStride;
    private readonly BoundaryMode _boundary;
    private readonly VectorTier _tier;
    private readonly bool _laneKernel;

    // Pinned for the object's lifetime; returned to the pool on Dispose.
    private readonly double[] _kf, _mask, _left, _right, _fill;
    private GCHandle _imageHandle, _kfHandle, _maskHandle, _leftHandle, _rightHandle, _fillHandle;
    private readonly double* _image, _kfp, _maskp, _leftp, _rightp, _fillp;
    private readonly double[] _imageData;

    private DirectConvolution(Array2D image, Array2D kernel, in ConvolutionGeometry g, in ConvolutionOptions options, VectorTier tier)
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
        _leftLen = _jL > 0 ? checked((_jL - 1) * _sx + _qpad) : 0;
        _rightLen = _oc > _jR ? checked((_oc - 1 - _jR) * _sx + _qpad) : 0;
        int fillLen = checked((_oc - 1) * _sx + _qpad + 1);

        _kf = ArrayPool<double>.Shared.Rent(Math.Max(1, checked(_p * _qpad)));
        _mask = ArrayPool<double>.Shared.Rent(w);
        _left = ArrayPool<double>.Shared.Rent(Math.Max(1, checked(_m * _leftLen)));
        _right = ArrayPool<double>.Shared.Rent(Math.Max(1, checked(_m * _rightLen)));
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

        int rightStart = xmin + _jR * _sx;
        for (int r = 0; r < _m; r++)
        {
            var row = image.Row(r);
            ExtendRow(row, xmin, _left.AsSpan(r * _leftLen, _leftLen), options.FillValue);
            ExtendRow(row, rightStart, _right.AsSpan(r * _rightLen, _rightLen), options.FillValue);
        }

        _imageData = image.Data;
        _imageHandle = GCHandle.Alloc(_imageData, GCHandleType.Pinned);
        _kfHandle = GCHandle.Alloc(_kf, GCHandleType.Pinned);
        _maskHandle = GCHandle.Alloc(_mask, GCHandleType.Pinned);
        _leftHandle = GCHandle.Alloc(_left, GCHandleType.Pinned);
        _rightHandle = GCHandle.Alloc(_right, GCHandleType.Pinned);
        _fillHandle = GCHandle.Alloc(_fill, GCHandleType.Pinned);
        _image = (double*)_imageHandle.AddrOfPinnedObject();
        _kfp = (double*)_kfHandle.AddrOfPinnedObject();
        _maskp = (double*)_maskHandle.AddrOfPinnedObject();
        _leftp = (double*)_leftHandle.AddrOfPinnedObject();
        _rightp = (double*)_rightHandle.AddrOfPinnedObject();
        _fillp = (double*)_fillHandle.AddrOfPinnedObject();
        // xmin can be far left of the row (kernel wider than the image); interior bases are only formed for
        // columns ≥ 0, so this offset is applied per row, never as a pointer to before the array.
        _interiorOffset = xmin + _jL * _sx;
    }

    private readonly int _interiorOffset;

    /// <summary>
    /// Prepares a direct convolution (boundary edge tables, reversed kernel) for geometry <paramref name="g"/>.
    /// The inputs must already be in geometry order (swapped for scipy's valid rule) and the kernel non-empty.
    /// </summary>
    public static DirectConvolution Prepare(Array2D image, Array2D kernel, in ConvolutionGeometry g, in ConvolutionOptions options,
        VectorTier? tier = null) =>
        new(image, kernel, g, options, tier ?? ChooseTier(g.StrideX, g.KernelCols));

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

    /// <summary>Fills <paramref name="dst"/>[t] with the image row's value at column <paramref name="start"/> + t.</summary>
    private void ExtendRow(Span<double> row, int start, Span<double> dst, double fill)
    {
        for (int t = 0; t < dst.Length; t++)
        {
            int c = start + t;
            dst[t] = BoundaryIndex.Resolve(ref c, _n, _boundary) ? row[c] : fill;
        }
    }

    /// <summary>Computes kept output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>).</summary>
    public void RunRows(Array2D output, int firstRow, int endRow)
    {
        nint[] rented = ArrayPool<nint>.Shared.Rent(3 * _p);
        try
        {
            fixed (nint* bases = rented)
            fixed (double* outp = output.Data)
            {
                double** left = (double**)bases, mid = left + _p, right = mid + _p;
                for (int i = firstRow; i < endRow; i++)
                {
                    int y = _oy + i * _sy;
                    for (int k = 0; k < _p; k++)
                    {
                        int r = y - k;
                        if (_m > 0 && BoundaryIndex.Resolve(ref r, _m, _boundary))
                        {
                            left[k] = _leftp + (long)r * _leftLen;
                            mid[k] = _image + (long)r * _imageStride + _interiorOffset;
                            right[k] = _rightp + (long)r * _rightLen;
                        }
                        else
                        {
                            left[k] = mid[k] = right[k] = _fillp;
                        }
                    }
                    double* dst = outp + (long)i * _oc;
                    Segment(left, dst, _jL);
                    Segment(mid, dst + _jL, _jR - _jL);
                    Segment(right, dst + _jR, _oc - _jR);
                }
            }
        }
        finally
        {
            ArrayPool<nint>.Shared.Return(rented);
        }
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
        if (_laneKernel) LaneKernel<TOps, TV>(bases, _p, _kfp, _q, dst, count);
        else DotKernel<TOps, TV>(bases, _p, _kfp, _qpad, TOps.Load(_maskp), _sx, dst, count);
    }

    /// <summary>
    /// Stride-1 kernel: dst[j] = Σ_k Σ_m kf[k·q + m] · bases[k][j + m] for j in [0, count).
    /// Four vectors of outputs per block share each broadcast tap; the tail is one overlapped vector (recomputing
    /// a few outputs bit-identically) or, for segments narrower than a vector, the same sum one output at a time.
    /// </summary>
    internal static void LaneKernel<TOps, TV>(double** bases, int p, double* kf, int q, double* dst, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        int j = 0;
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
        if (j == count) return;
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
    internal static void DotKernel<TOps, TV>(double** bases, int p, double* kf, int qpad, TV mask, int sx, double* dst, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        int lastChunk = qpad - w;
        int j = 0;
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
            dst[j] = TOps.Sum(a0);
            dst[j + 1] = TOps.Sum(a1);
            dst[j + 2] = TOps.Sum(a2);
            dst[j + 3] = TOps.Sum(a3);
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

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    /// <summary>Unpins and returns the pooled buffers.</summary>
    public void Dispose()
    {
        if (!_imageHandle.IsAllocated) return;
        _imageHandle.Free(); _kfHandle.Free(); _maskHandle.Free(); _leftHandle.Free(); _rightHandle.Free(); _fillHandle.Free();
        ArrayPool<double>.Shared.Return(_kf);
        ArrayPool<double>.Shared.Return(_mask);
        ArrayPool<double>.Shared.Return(_left);
        ArrayPool<double>.Shared.Return(_right);
        ArrayPool<double>.Shared.Return(_fill);
    }
}
