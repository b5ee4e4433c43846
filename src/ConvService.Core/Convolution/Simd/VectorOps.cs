using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Core.Convolution.Simd;

/// <summary>
/// The handful of vector operations the convolution kernels need, as static abstract members so a kernel written
/// once as a generic method is specialised by the JIT for each width (no virtual calls, everything inlined) —
/// the TensorPrimitives pattern. <typeparamref name="TV"/> is the vector type itself (Vector256&lt;double&gt; …,
/// or double for the scalar tier), so no wrapper struct sits between the JIT and the registers.
/// </summary>
internal unsafe interface IVectorOps<TV> where TV : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TV Zero { get; }

    static abstract TV Load(double* source);

    static abstract void Store(double* destination, TV value);

    static abstract TV Broadcast(double value);

    /// <summary>a·b + c with a single rounding, lane-wise (equal to <see cref="Math.FusedMultiplyAdd"/> per lane).</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    static abstract TV BitwiseAnd(TV a, TV b);

    /// <summary>Sum of the lanes, in a fixed order (pairs of neighbouring lanes first).</summary>
    static abstract double Sum(TV value);

    /// <summary>destination[i] = Sum(a_i) for four vectors, bit-identical to <see cref="Sum"/>, with shared shuffles.</summary>
    static abstract void StoreSums(double* destination, TV a0, TV a1, TV a2, TV a3);
}

/// <summary>One double at a time: the portable fallback and the reference every vector tier must agree with.</summary>
internal readonly unsafe struct ScalarOps : IVectorOps<double>
{
    public static int Count => 1;
    public static double Zero => 0.0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Load(double* source) => *source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(double* destination, double value) => *destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Broadcast(double value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double MultiplyAdd(double a, double b, double c) => Math.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BitwiseAnd(double a, double b) =>
        BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(a) & BitConverter.DoubleToInt64Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(double value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(double* destination, double a0, double a1, double a2, double a3)
    {
        destination[0] = a0; destination[1] = a1; destination[2] = a2; destination[3] = a3;
    }
}

/// <summary>Two doubles per vector (SSE2 / AdvSimd).</summary>
internal readonly unsafe struct Vector128Ops : IVectorOps<Vector128<double>>
{
    public static int Count => Vector128<double>.Count;
    public static Vector128<double> Zero => Vector128<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Load(double* source) => Vector128.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(double* destination, Vector128<double> value) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Broadcast(double value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> MultiplyAdd(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> BitwiseAnd(Vector128<double> a, Vector128<double> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector128<double> value) => value.GetElement(0) + value.GetElement(1);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(double* destination, Vector128<double> a0, Vector128<double> a1, Vector128<double> a2, Vector128<double> a3)
    {
        if (Sse3.IsSupported)
        {
            Sse3.HorizontalAdd(a0, a1).Store(destination);
            Sse3.HorizontalAdd(a2, a3).Store(destination + 2);
            return;
        }
        destination[0] = Sum(a0); destination[1] = Sum(a1); destination[2] = Sum(a2); destination[3] = Sum(a3);
    }
}

/// <summary>Four doubles per vector (AVX2 + FMA): the tier that runs on this project's reference machine.</summary>
internal readonly unsafe struct Vector256Ops : IVectorOps<Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    public static Vector256<double> Zero => Vector256<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Load(double* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(double* destination, Vector256<double> value) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Broadcast(double value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> MultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> BitwiseAnd(Vector256<double> a, Vector256<double> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector256<double> value) => Vector128Ops.Sum(value.GetLower()) + Vector128Ops.Sum(value.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(double* destination, Vector256<double> a0, Vector256<double> a1, Vector256<double> a2, Vector256<double> a3)
    {
        if (Avx.IsSupported)
        {
            // hadd gives each vector's (lane0+lane1) and (lane2+lane3); the two 128-bit halves then line up per vector.
            var t0 = Avx.HorizontalAdd(a0, a1);
            var t1 = Avx.HorizontalAdd(a2, a3);
            (Avx.Permute2x128(t0, t1, 0x20) + Avx.Permute2x128(t0, t1, 0x31)).Store(destination);
            return;
        }
        destination[0] = Sum(a0); destination[1] = Sum(a1); destination[2] = Sum(a2); destination[3] = Sum(a3);
    }
}

/// <summary>Eight doubles per vector (AVX-512). Still correct, in software, where the hardware lacks it.</summary>
internal readonly unsafe struct Vector512Ops : IVectorOps<Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    public static Vector512<double> Zero => Vector512<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Load(double* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(double* destination, Vector512<double> value) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Broadcast(double value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> BitwiseAnd(Vector512<double> a, Vector512<double> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector512<double> value) => Vector256Ops.Sum(value.GetLower() + value.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(double* destination, Vector512<double> a0, Vector512<double> a1, Vector512<double> a2, Vector512<double> a3) =>
        Vector256Ops.StoreSums(destination, a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(),
            a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper());
}

/// <summary>A vector width the kernels can be instantiated at.</summary>
internal enum VectorTier
{
    /// <summary>One lane: <see cref="ScalarOps"/>.</summary>
    Scalar = 1,
    /// <summary><see cref="Vector128Ops"/>.</summary>
    V128 = 2,
    /// <summary><see cref="Vector256Ops"/>.</summary>
    V256 = 4,
    /// <summary><see cref="Vector512Ops"/>.</summary>
    V512 = 8,
}

internal static class VectorTiers
{
    /// <summary>The widest tier the hardware accelerates (FMA is part of AVX2-era x64 and of AdvSimd).</summary>
    public static VectorTier Widest { get; } =
        Vector512.IsHardwareAccelerated ? VectorTier.V512
        : Vector256.IsHardwareAccelerated ? VectorTier.V256
        : Vector128.IsHardwareAccelerated ? VectorTier.V128
        : VectorTier.Scalar;

    /// <summary>Lanes of a tier.</summary>
    public static int Lanes(this VectorTier tier) => (int)tier;
}
