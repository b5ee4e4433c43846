using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Convolution.Direct;

// The band loop: for each kept output row, the row pointers of its three segments (left edge, interior, right edge)
// for every kernel row, then one kernel call per segment; stride-1 rows that share input rows go in pairs.
internal sealed unsafe partial class DirectConvolution
{
    /// <summary>Fills dst[t], t &lt; count, with image row <paramref name="r"/>'s value at column <paramref name="start"/> + t.</summary>
    private void ExtendRow(int r, int start, double* dst, int count) =>
        BoundaryIndex.ExtendRow(_image + (long)r * _imageStride, _n, start, dst, count, _boundary, _fillValue);

    /// <summary>
    /// Computes kept output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>). The one place that picks
    /// the vector tier: the band loop below and every segment and kernel it calls are generic over it, so each tier
    /// gets its own compiled copy and nothing under this switch tests the tier again.
    /// </summary>
    public void RunRows(Array2D output, int firstRow, int endRow)
    {
        switch (_tier)
        {
            case VectorTier.V512: RunRows<Vector512Ops, Vector512<double>>(output, firstRow, endRow); break;
            case VectorTier.V256: RunRows<Vector256Ops, Vector256<double>>(output, firstRow, endRow); break;
            case VectorTier.V128: RunRows<Vector128Ops, Vector128<double>>(output, firstRow, endRow); break;
            default: RunRows<ScalarOps, double>(output, firstRow, endRow); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunRows<TOps, TV>(Array2D output, int firstRow, int endRow)
        where TOps : struct, IVectorOps<TV> where TV : struct
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
                            Segment<TOps, TV>(left0, dst0, _jL);
                            Segment<TOps, TV>(left1, dst1, _jL);
                            PairSegment<TOps, TV>(pairRows, mid0, mid1, dst0 + _jL, dst1 + _jL, _jR - _jL,
                                i + 3 < endRow ? InteriorRow(i + 2) : null, i + 3 < endRow ? InteriorRow(i + 3) : null);
                            Segment<TOps, TV>(right0, dst0 + _jR, _oc - _jR);
                            Segment<TOps, TV>(right1, dst1 + _jR, _oc - _jR);
                        }
                        else
                        {
                            RowSegments<TOps, TV>(left0, mid0, right0, dst0);
                            RowSegments<TOps, TV>(left1, mid1, right1, dst1);
                        }
                        i += 2;
                        continue;
                    }
                    RowSegments<TOps, TV>(left0, mid0, right0, dst0);
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

    /// <summary>The three segments of one output row, left edge, interior and right edge, each with its own row pointers.</summary>
    private void RowSegments<TOps, TV>(double** left, double** mid, double** right, double* dst)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        Segment<TOps, TV>(left, dst, _jL);
        Segment<TOps, TV>(mid, dst + _jL, _jR - _jL);
        Segment<TOps, TV>(right, dst + _jR, _oc - _jR);
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

    /// <summary>The interior of a chained row pair: the pair kernel's whole blocks for both rows, then each row's tail alone.</summary>
    private void PairSegment<TOps, TV>(double** rows, double** mid0, double** mid1, double* dst0, double* dst1, int count, double* ahead0, double* ahead1)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        if (count <= 0) return;
        int done = _q == 4
            ? LanePairKernel4<TOps, TV>(rows, _p, _kfp, dst0, dst1, count, ahead0, ahead1)
            : LanePairKernel<TOps, TV>(rows, _p, _kfp, _q, dst0, dst1, count, ahead0, ahead1);
        LaneKernel<TOps, TV>(mid0, _p, _kfp, _q, dst0, done, count);
        LaneKernel<TOps, TV>(mid1, _p, _kfp, _q, dst1, done, count);
    }

    /// <summary>One segment of one output row: the lane kernel for stride 1, the dot kernel otherwise.</summary>
    private void Segment<TOps, TV>(double** bases, double* dst, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        if (count <= 0) return;
        if (_laneKernel) LaneKernel<TOps, TV>(bases, _p, _kfp, _q, dst, 0, count);
        else DotKernel<TOps, TV>(bases, _p, _kfp, _qpad, TOps.Load(_maskp), _q == _qpad, _sx, dst, count);
    }
}
