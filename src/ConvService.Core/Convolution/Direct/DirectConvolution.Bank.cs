using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution.Simd;

namespace ConvService.Core.Convolution.Direct;

// A filter bank's fused rows: kernels of one geometry whose taps fit one vector (the tutorial's 4×4 at stride 5)
// share each output's input loads. Their row pointers are the same (they depend only on the image, the geometry
// and the options), so one member builds them and every kernel of the group reads the window loaded once.
internal sealed unsafe partial class DirectConvolution
{
    /// <summary>
    /// Whether this runner's rows can be computed by <see cref="RunFusedRows"/>: the dot kernel with all taps of a
    /// row in one vector, where the window loads are a large part of each output's cost.
    /// </summary>
    internal bool Fusable => !_laneKernel && _qpad == _tier.Lanes();

    /// <summary>Whether <paramref name="other"/> reads exactly the rows and columns this runner reads, so both can share row pointers.</summary>
    internal bool SharesRowsWith(DirectConvolution other) =>
        Fusable && other.Fusable && _image == other._image && _p == other._p && _q == other._q && _qpad == other._qpad
        && _tier == other._tier && _m == other._m && _n == other._n && _oc == other._oc && _sy == other._sy && _oy == other._oy
        && _sx == other._sx && _jL == other._jL && _jR == other._jR && _padded == other._padded && _leftLen == other._leftLen
        && _rightLen == other._rightLen && _xmin == other._xmin && _boundary == other._boundary
        && _fillValue.Equals(other._fillValue) && _imageStride == other._imageStride;

    /// <summary>
    /// Computes kept output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of every member of a group
    /// (all <see cref="SharesRowsWith"/> members[0]) into its output. Each output is the same FMA sequence as the
    /// member's own <see cref="RunRows(Array2D, int, int)"/> gives it, so the results are bit-identical.
    /// </summary>
    internal static void RunFusedRows(DirectConvolution[] members, Array2D[] outputs, int firstRow, int endRow)
    {
        using var group = new FusedGroup(members, outputs);
        group.RunRows(firstRow, endRow);
    }

    /// <summary>A group of runners that share row pointers, with their outputs pinned for the whole bank.</summary>
    internal sealed class FusedGroup : IDisposable
    {
        private readonly GCHandle[] _handles;

        /// <summary>Pins <paramref name="outputs"/>, one per member; the members must all <see cref="SharesRowsWith"/> members[0].</summary>
        public FusedGroup(DirectConvolution[] members, Array2D[] outputs)
        {
            Members = members;
            Outputs = outputs;
            _handles = new GCHandle[outputs.Length];
            OutputPointers = new nint[outputs.Length];
            for (int i = 0; i < outputs.Length; i++)
            {
                _handles[i] = GCHandle.Alloc(outputs[i].Data, GCHandleType.Pinned);
                OutputPointers[i] = _handles[i].AddrOfPinnedObject();
            }
        }

        public DirectConvolution[] Members { get; }

        public Array2D[] Outputs { get; }

        /// <summary>Where each member's output starts, pinned until <see cref="Dispose"/>.</summary>
        public nint[] OutputPointers { get; }

        /// <summary>Computes kept output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of every member.</summary>
        public void RunRows(int firstRow, int endRow)
        {
            switch (Members[0]._tier)
            {
                case VectorTier.V512: RunFusedRows<Vector512Ops, Vector512<double>>(this, firstRow, endRow); break;
                case VectorTier.V256: RunFusedRows<Vector256Ops, Vector256<double>>(this, firstRow, endRow); break;
                case VectorTier.V128: RunFusedRows<Vector128Ops, Vector128<double>>(this, firstRow, endRow); break;
                default: RunFusedRows<ScalarOps, double>(this, firstRow, endRow); break;
            }
        }

        public void Dispose()
        {
            foreach (var h in _handles) if (h.IsAllocated) h.Free();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFusedRows<TOps, TV>(FusedGroup group, int firstRow, int endRow)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        var members = group.Members;
        var lead = members[0];
        int p = lead._p, kernels = members.Length;
        int edgeLen = checked(p * (lead._leftLen + lead._rightLen));
        nint[] rented = ArrayPool<nint>.Shared.Rent(3 * p + 2 * kernels);
        double[] edges = ArrayPool<double>.Shared.Rent(Math.Max(1, edgeLen));
        try
        {
            fixed (nint* bases = rented)
            fixed (nint* outs = group.OutputPointers)
            fixed (double* edgep = edges)
            {
                double** left = (double**)bases, mid = left + p, right = mid + p;
                double** kfs = right + p, dsts = kfs + kernels;
                for (int c = 0; c < kernels; c++) kfs[c] = members[c]._kfp;
                bool unmasked = lead._q == lead._qpad;
                TV mask = TOps.Load(lead._maskp);
                for (int i = firstRow; i < endRow; i++)
                {
                    lead.RowBases(i, left, mid, right, edgep);
                    for (int c = 0; c < kernels; c++) dsts[c] = (double*)outs[c] + (long)i * lead._oc;
                    FusedSegment<TOps, TV>(left, p, kfs, kernels, mask, unmasked, lead._sx, dsts, 0, lead._jL);
                    FusedSegment<TOps, TV>(mid, p, kfs, kernels, mask, unmasked, lead._sx, dsts, lead._jL, lead._jR - lead._jL);
                    FusedSegment<TOps, TV>(right, p, kfs, kernels, mask, unmasked, lead._sx, dsts, lead._jR, lead._oc - lead._jR);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(edges);
            ArrayPool<nint>.Shared.Return(rented);
        }
    }

    /// <summary>One segment of one output row for every kernel: four kernels at a time, then two, then one.</summary>
    private static void FusedSegment<TOps, TV>(double** bases, int p, double** kfs, int kernels, TV mask, bool unmasked, int sx,
        double** dsts, int offset, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        if (count <= 0) return;
        int c = 0;
        for (; c <= kernels - 4; c += 4)
        {
            int done = unmasked
                ? FusedOneChunk<TOps, TV, NoLaneMask, FourKernels>(bases, p, kfs + c, mask, sx, dsts + c, offset, count)
                : FusedOneChunk<TOps, TV, LaneMask, FourKernels>(bases, p, kfs + c, mask, sx, dsts + c, offset, count);
            for (int t = 0; t < 4; t++) OneChunkTail<TOps, TV>(bases, p, kfs[c + t], mask, sx, dsts[c + t] + offset, done, count);
        }
        for (; c <= kernels - 2; c += 2)
        {
            int done = unmasked
                ? FusedOneChunk<TOps, TV, NoLaneMask, TwoKernels>(bases, p, kfs + c, mask, sx, dsts + c, offset, count)
                : FusedOneChunk<TOps, TV, LaneMask, TwoKernels>(bases, p, kfs + c, mask, sx, dsts + c, offset, count);
            for (int t = 0; t < 2; t++) OneChunkTail<TOps, TV>(bases, p, kfs[c + t], mask, sx, dsts[c + t] + offset, done, count);
        }
        // One kernel left: exactly the single-kernel path.
        for (; c < kernels; c++) DotKernel<TOps, TV>(bases, p, kfs[c], TOps.Count, mask, unmasked, sx, dsts[c] + offset, count);
    }

    /// <summary>
    /// <see cref="DotKernelOneChunk{TOps, TV, TMask}"/> for <typeparamref name="TCount"/> kernels (2 or 4) at once: each
    /// block of four outputs loads its P input slices once and feeds them to every kernel's four accumulators. Each
    /// accumulator sees the FMAs the single kernel gives it, in the same order, so results are bit-identical.
    /// Returns how many leading outputs it computed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FusedOneChunk<TOps, TV, TMask, TCount>(double** bases, int p, double** kfs, TV mask, int sx, double** dsts, int offset, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct where TMask : struct, ILaneMask where TCount : struct, IKernelCount
    {
        int w = TOps.Count;
        double* kf0 = kfs[0], kf1 = kfs[1], kf2 = TCount.Four ? kfs[2] : null, kf3 = TCount.Four ? kfs[3] : null;
        double* d0 = dsts[0] + offset, d1 = dsts[1] + offset, d2 = TCount.Four ? dsts[2] + offset : null, d3 = TCount.Four ? dsts[3] + offset : null;
        int j = 0;
        for (; j <= count - 4; j += 4)
        {
            TV a00 = TOps.Zero, a01 = TOps.Zero, a02 = TOps.Zero, a03 = TOps.Zero;
            TV a10 = TOps.Zero, a11 = TOps.Zero, a12 = TOps.Zero, a13 = TOps.Zero;
            TV a20 = TOps.Zero, a21 = TOps.Zero, a22 = TOps.Zero, a23 = TOps.Zero;
            TV a30 = TOps.Zero, a31 = TOps.Zero, a32 = TOps.Zero, a33 = TOps.Zero;
            long start = (long)j * sx;
            for (int k = 0; k < p; k++)
            {
                double* s0 = bases[k] + start;
                TV x0 = Masked<TOps, TV, TMask>(TOps.Load(s0), mask);
                TV x1 = Masked<TOps, TV, TMask>(TOps.Load(s0 + sx), mask);
                TV x2 = Masked<TOps, TV, TMask>(TOps.Load(s0 + 2 * sx), mask);
                TV x3 = Masked<TOps, TV, TMask>(TOps.Load(s0 + 3 * sx), mask);
                int kOff = k * w;
                TV kv = TOps.Load(kf0 + kOff);
                a00 = TOps.MultiplyAdd(x0, kv, a00); a01 = TOps.MultiplyAdd(x1, kv, a01);
                a02 = TOps.MultiplyAdd(x2, kv, a02); a03 = TOps.MultiplyAdd(x3, kv, a03);
                kv = TOps.Load(kf1 + kOff);
                a10 = TOps.MultiplyAdd(x0, kv, a10); a11 = TOps.MultiplyAdd(x1, kv, a11);
                a12 = TOps.MultiplyAdd(x2, kv, a12); a13 = TOps.MultiplyAdd(x3, kv, a13);
                if (TCount.Four)
                {
                    kv = TOps.Load(kf2 + kOff);
                    a20 = TOps.MultiplyAdd(x0, kv, a20); a21 = TOps.MultiplyAdd(x1, kv, a21);
                    a22 = TOps.MultiplyAdd(x2, kv, a22); a23 = TOps.MultiplyAdd(x3, kv, a23);
                    kv = TOps.Load(kf3 + kOff);
                    a30 = TOps.MultiplyAdd(x0, kv, a30); a31 = TOps.MultiplyAdd(x1, kv, a31);
                    a32 = TOps.MultiplyAdd(x2, kv, a32); a33 = TOps.MultiplyAdd(x3, kv, a33);
                }
            }
            TOps.StoreSums(d0 + j, a00, a01, a02, a03);
            TOps.StoreSums(d1 + j, a10, a11, a12, a13);
            if (TCount.Four)
            {
                TOps.StoreSums(d2 + j, a20, a21, a22, a23);
                TOps.StoreSums(d3 + j, a30, a31, a32, a33);
            }
        }
        return j;
    }

    /// <summary>Outputs [<paramref name="j"/>, <paramref name="count"/>) of one kernel, one at a time: <see cref="DotKernel{TOps, TV}"/>'s tail loop for one chunk.</summary>
    private static void OneChunkTail<TOps, TV>(double** bases, int p, double* kf, TV mask, int sx, double* dst, int j, int count)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int w = TOps.Count;
        for (; j < count; j++)
        {
            TV a = TOps.Zero;
            for (int k = 0; k < p; k++)
                a = TOps.MultiplyAdd(TOps.BitwiseAnd(TOps.Load(bases[k] + (long)j * sx), mask), TOps.Load(kf + k * w), a);
            dst[j] = TOps.Sum(a);
        }
    }

    /// <summary>How many kernels one fused block serves; a type parameter so each count compiles without the test.</summary>
    private interface IKernelCount
    {
        static abstract bool Four { get; }
    }

    private readonly struct TwoKernels : IKernelCount
    {
        public static bool Four => false;
    }

    private readonly struct FourKernels : IKernelCount
    {
        public static bool Four => true;
    }
}
