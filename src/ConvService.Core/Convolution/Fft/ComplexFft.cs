using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvService.Core.Convolution.Fft;

/// <summary>
/// Complex FFT of one 5-smooth length (2^a·3^b·5^c) in Stockham autosort form (radix 4, 2, 3, 5), applied to
/// <c>count</c> interleaved sequences at once: element t of sequence q is the complex at index q + count·t.
/// </summary>
/// <remarks>
/// Why our own: MathNet 5's managed provider has no 2-D transform, and its 1-D <c>Fourier.Forward</c> took
/// 5–8 ms per 2160-point complex transform here against ~50 µs for this class (bench/README.md); scipy's
/// pocketfft uses 5-smooth lengths, and so do we. The interleaved
/// layout makes a column pass a single call whose innermost loop runs along a contiguous block of columns
/// (vectorised two complex numbers per Vector256), and a row transform the same call with count 1 after the
/// first stage has widened the stride.
/// </remarks>
internal sealed unsafe class ComplexFft
{
    private readonly int[] _radices;
    private readonly double[][] _twiddles; // per stage: for p < m, for k = 1..R-1: exp(-2πi·p·k/n) as (re, im)

    // Plans are immutable after construction, so one per length serves every thread. Lengths come from request
    // shapes, so the cache is bounded twice: only lengths up to MaxCachedLength (twiddles ≤ 16·n bytes, 512 KiB) and
    // at most MaxCachedPlans of them (32 MiB at worst). Other lengths get a plan per call, freed with the call.
    private const int MaxCachedLength = 32_768;
    private const int MaxCachedPlans = 64;
    private static readonly ConcurrentDictionary<int, ComplexFft> Plans = new();

    /// <summary>The plan for <paramref name="length"/>, shared (twiddles computed once per process) when it is cached.</summary>
    public static ComplexFft For(int length)
    {
        if (Plans.TryGetValue(length, out var plan)) return plan;
        plan = new ComplexFft(length);
        return length <= MaxCachedLength && Plans.Count < MaxCachedPlans ? Plans.GetOrAdd(length, plan) : plan;
    }

    public ComplexFft(int length)
    {
        if (length < 1 || !IsFastLength(length)) throw new ArgumentOutOfRangeException(nameof(length), length, "length must be 5-smooth");
        Length = length;
        var radices = new List<int>();
        int n = length;
        while (n % 4 == 0) { radices.Add(4); n /= 4; }
        while (n % 2 == 0) { radices.Add(2); n /= 2; }
        while (n % 3 == 0) { radices.Add(3); n /= 3; }
        while (n % 5 == 0) { radices.Add(5); n /= 5; }
        _radices = radices.ToArray();
        _twiddles = new double[_radices.Length][];
        n = length;
        for (int st = 0; st < _radices.Length; st++)
        {
            int r = _radices[st], m = n / r;
            var tw = new double[2 * m * (r - 1)];
            for (int p = 0; p < m; p++)
                for (int k = 1; k < r; k++)
                {
                    // Reduce the angle's integer part exactly so large n keeps full twiddle accuracy.
                    long e = (long)p * k % n;
                    double angle = -2.0 * Math.PI * e / n;
                    tw[2 * (p * (r - 1) + k - 1)] = Math.Cos(angle);
                    tw[2 * (p * (r - 1) + k - 1) + 1] = Math.Sin(angle);
                }
            _twiddles[st] = tw;
            n = m;
        }
    }

    /// <summary>Transform length.</summary>
    public int Length { get; }

    /// <summary>True when n has no prime factor above 5.</summary>
    public static bool IsFastLength(long n)
    {
        if (n < 1) return false;
        foreach (int f in (ReadOnlySpan<int>)[2, 3, 5]) while (n % f == 0) n /= f;
        return n == 1;
    }

    /// <summary>The smallest 5-smooth number ≥ n.</summary>
    public static int NextFastLength(int n)
    {
        if (n <= 1) return 1;
        long best = long.MaxValue;
        for (long p5 = 1; p5 < best; p5 *= 5)
            for (long p35 = p5; p35 < best; p35 *= 3)
            {
                long v = p35;
                while (v < n) v *= 2;
                if (v < best) best = v;
            }
        return checked((int)best);
    }

    /// <summary>
    /// Forward transform (e^{-2πi…}) of <paramref name="count"/> interleaved sequences in <paramref name="data"/>,
    /// using <paramref name="work"/> (same size) as scratch. Unscaled.
    /// </summary>
    public void Forward(double* data, double* work, int count) => Run(data, work, count);

    /// <summary>Inverse transform (e^{+2πi…}), unscaled: conj(F(conj x)).</summary>
    public void Inverse(double* data, double* work, int count)
    {
        long n2 = 2L * Length * count;
        Conjugate(data, n2);
        Run(data, work, count);
        Conjugate(data, n2);
    }

    private static void Conjugate(double* data, long doubles)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var sign = Vector256.Create(1.0, -1.0, 1.0, -1.0);
            for (; i + 4 <= doubles; i += 4) (Vector256.Load(data + i) * sign).Store(data + i);
        }
        for (i += 1; i < doubles; i += 2) data[i] = -data[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(double* data, double* work, int count)
    {
        int n = Length, s = count;
        double* x = data, y = work;
        bool wide = Vector256.IsHardwareAccelerated;
        for (int st = 0; st < _radices.Length; st++)
        {
            int r = _radices[st], m = n / r;
            fixed (double* tw = _twiddles[st])
            {
                if (wide && s % 2 == 0) Stage<Complex2>(r, x, y, m, s, tw);
                else Stage<Complex1>(r, x, y, m, s, tw);
            }
            n = m;
            s *= r;
            double* t = x; x = y; y = t;
        }
        if (x != data) Buffer.MemoryCopy(x, data, 16L * Length * count, 16L * Length * count);
    }

    private static void Stage<TC>(int r, double* x, double* y, int m, int s, double* tw) where TC : struct, IComplexVector<TC>
    {
        switch (r)
        {
            case 4: Radix4<TC>(x, y, m, s, tw); break;
            case 2: Radix2<TC>(x, y, m, s, tw); break;
            case 3: Radix3<TC>(x, y, m, s, tw); break;
            default: Radix5<TC>(x, y, m, s, tw); break;
        }
    }

    // Stage of radix R: for p < m, q < s: a_r = x[q + s(p + r·m)], b = DFT_R(a), y[q + s(R·p + k)] = b_k · w_p^k.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix2<TC>(double* x, double* y, int m, int s, double* tw) where TC : struct, IComplexVector<TC>
    {
        long sm = (long)s * m;
        for (int p = 0; p < m; p++)
        {
            double w1r = tw[2 * p], w1i = tw[2 * p + 1];
            double* xa = x + 2L * s * p;
            double* yb = y + 2L * s * 2 * p;
            for (int q = 0; q < s; q += TC.Count)
            {
                var a0 = TC.Load(xa + 2 * q);
                var a1 = TC.Load(xa + 2 * (q + sm));
                TC.Add(a0, a1).Store(yb + 2 * q);
                TC.Mul(TC.Sub(a0, a1), w1r, w1i).Store(yb + 2 * (q + s));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix4<TC>(double* x, double* y, int m, int s, double* tw) where TC : struct, IComplexVector<TC>
    {
        long sm = (long)s * m;
        for (int p = 0; p < m; p++)
        {
            double* w = tw + 6 * p;
            double w1r = w[0], w1i = w[1], w2r = w[2], w2i = w[3], w3r = w[4], w3i = w[5];
            double* xa = x + 2L * s * p;
            double* yb = y + 2L * s * 4 * p;
            for (int q = 0; q < s; q += TC.Count)
            {
                var a0 = TC.Load(xa + 2 * q);
                var a1 = TC.Load(xa + 2 * (q + sm));
                var a2 = TC.Load(xa + 2 * (q + 2 * sm));
                var a3 = TC.Load(xa + 2 * (q + 3 * sm));
                var t0 = TC.Add(a0, a2);
                var t1 = TC.Sub(a0, a2);
                var t2 = TC.Add(a1, a3);
                var t3 = TC.MulMinusI(TC.Sub(a1, a3));
                TC.Add(t0, t2).Store(yb + 2 * q);
                TC.Mul(TC.Add(t1, t3), w1r, w1i).Store(yb + 2 * (q + s));
                TC.Mul(TC.Sub(t0, t2), w2r, w2i).Store(yb + 2 * (q + 2 * s));
                TC.Mul(TC.Sub(t1, t3), w3r, w3i).Store(yb + 2 * (q + 3 * s));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix3<TC>(double* x, double* y, int m, int s, double* tw) where TC : struct, IComplexVector<TC>
    {
        const double c = -0.5;
        const double sn = -0.86602540378443864676; // sin(-2π/3)
        long sm = (long)s * m;
        for (int p = 0; p < m; p++)
        {
            double* w = tw + 4 * p;
            double w1r = w[0], w1i = w[1], w2r = w[2], w2i = w[3];
            double* xa = x + 2L * s * p;
            double* yb = y + 2L * s * 3 * p;
            for (int q = 0; q < s; q += TC.Count)
            {
                var a0 = TC.Load(xa + 2 * q);
                var a1 = TC.Load(xa + 2 * (q + sm));
                var a2 = TC.Load(xa + 2 * (q + 2 * sm));
                var t = TC.Add(a1, a2);
                var u = TC.MulI(TC.Scale(TC.Sub(a1, a2), sn));
                var v = TC.Add(a0, TC.Scale(t, c));
                TC.Add(a0, t).Store(yb + 2 * q);
                TC.Mul(TC.Add(v, u), w1r, w1i).Store(yb + 2 * (q + s));
                TC.Mul(TC.Sub(v, u), w2r, w2i).Store(yb + 2 * (q + 2 * s));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Radix5<TC>(double* x, double* y, int m, int s, double* tw) where TC : struct, IComplexVector<TC>
    {
        const double c1 = 0.30901699437494742410;   // cos(2π/5)
        const double c2 = -0.80901699437494742410;  // cos(4π/5)
        const double s1 = -0.95105651629515357212;  // sin(-2π/5)
        const double s2 = -0.58778525229247312917;  // sin(-4π/5)
        long sm = (long)s * m;
        for (int p = 0; p < m; p++)
        {
            double* w = tw + 8 * p;
            double* xa = x + 2L * s * p;
            double* yb = y + 2L * s * 5 * p;
            for (int q = 0; q < s; q += TC.Count)
            {
                var a0 = TC.Load(xa + 2 * q);
                var a1 = TC.Load(xa + 2 * (q + sm));
                var a2 = TC.Load(xa + 2 * (q + 2 * sm));
                var a3 = TC.Load(xa + 2 * (q + 3 * sm));
                var a4 = TC.Load(xa + 2 * (q + 4 * sm));
                var t1 = TC.Add(a1, a4);
                var t2 = TC.Add(a2, a3);
                var d1 = TC.Sub(a1, a4);
                var d2 = TC.Sub(a2, a3);
                var r1 = TC.Add(a0, TC.Add(TC.Scale(t1, c1), TC.Scale(t2, c2)));
                var r2 = TC.Add(a0, TC.Add(TC.Scale(t1, c2), TC.Scale(t2, c1)));
                var i1 = TC.MulI(TC.Add(TC.Scale(d1, s1), TC.Scale(d2, s2)));
                var i2 = TC.MulI(TC.Sub(TC.Scale(d1, s2), TC.Scale(d2, s1)));
                TC.Add(a0, TC.Add(t1, t2)).Store(yb + 2 * q);
                TC.Mul(TC.Add(r1, i1), w[0], w[1]).Store(yb + 2 * (q + s));
                TC.Mul(TC.Add(r2, i2), w[2], w[3]).Store(yb + 2 * (q + 2 * s));
                TC.Mul(TC.Sub(r2, i2), w[4], w[5]).Store(yb + 2 * (q + 3 * s));
                TC.Mul(TC.Sub(r1, i1), w[6], w[7]).Store(yb + 2 * (q + 4 * s));
            }
        }
    }
}

/// <summary>Complex arithmetic on one (<see cref="Complex1"/>) or two (<see cref="Complex2"/>) interleaved complex doubles.</summary>
internal unsafe interface IComplexVector<TSelf> where TSelf : struct, IComplexVector<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Load(double* p);
    void Store(double* p);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Sub(TSelf a, TSelf b);
    static abstract TSelf Scale(TSelf a, double c);
    /// <summary>i·a.</summary>
    static abstract TSelf MulI(TSelf a);
    /// <summary>−i·a.</summary>
    static abstract TSelf MulMinusI(TSelf a);
    /// <summary>a·(wr + i·wi).</summary>
    static abstract TSelf Mul(TSelf a, double wr, double wi);
}

internal readonly unsafe struct Complex1(Vector128<double> v) : IComplexVector<Complex1>
{
    private readonly Vector128<double> _v = v;
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex1 Load(double* p) => new(Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(double* p) => _v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex1 Add(Complex1 a, Complex1 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex1 Sub(Complex1 a, Complex1 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex1 Scale(Complex1 a, double c) => new(a._v * c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Complex1 MulI(Complex1 a) => new(Vector128.Shuffle(a._v, Vector128.Create(1L, 0L)) * Vector128.Create(-1.0, 1.0));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Complex1 MulMinusI(Complex1 a) => new(Vector128.Shuffle(a._v, Vector128.Create(1L, 0L)) * Vector128.Create(1.0, -1.0));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Complex1 Mul(Complex1 a, double wr, double wi) =>
        new(a._v * wr + Vector128.Shuffle(a._v, Vector128.Create(1L, 0L)) * Vector128.Create(-wi, wi));
}

internal readonly unsafe struct Complex2(Vector256<double> v) : IComplexVector<Complex2>
{
    private readonly Vector256<double> _v = v;
    public static int Count => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex2 Load(double* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(double* p) => _v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex2 Add(Complex2 a, Complex2 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex2 Sub(Complex2 a, Complex2 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Complex2 Scale(Complex2 a, double c) => new(a._v * c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Complex2 MulI(Complex2 a) =>
        new(Vector256.Shuffle(a._v, Vector256.Create(1L, 0L, 3L, 2L)) * Vector256.Create(-1.0, 1.0, -1.0, 1.0));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Complex2 MulMinusI(Complex2 a) =>
        new(Vector256.Shuffle(a._v, Vector256.Create(1L, 0L, 3L, 2L)) * Vector256.Create(1.0, -1.0, 1.0, -1.0));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Complex2 Mul(Complex2 a, double wr, double wi) =>
        new(a._v * wr + Vector256.Shuffle(a._v, Vector256.Create(1L, 0L, 3L, 2L)) * Vector256.Create(-wi, wi, -wi, wi));
}
