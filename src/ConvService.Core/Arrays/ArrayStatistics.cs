using System.Numerics;
using System.Runtime.InteropServices;

namespace ConvService.Core.Arrays;

/// <summary>Running min, max and sum over float64 values, fed in chunks (so it can ride along another pass over the data).</summary>
/// <remarks>
/// NaN is skipped by min and max (it makes the sum NaN), as in a scalar <c>if (v &lt; min)</c> loop: with only NaN,
/// min stays +∞ and max −∞. Vectorised with compare-and-select rather than <c>Vector.Min</c>, whose NaN handling differs.
/// </remarks>
public struct ArrayStatistics
{
    /// <summary>Smallest non-NaN value seen (+∞ if none).</summary>
    public double Min { get; private set; }

    /// <summary>Largest non-NaN value seen (−∞ if none).</summary>
    public double Max { get; private set; }

    /// <summary>Sum of all values seen.</summary>
    public double Sum { get; private set; }

    /// <summary>Number of values seen.</summary>
    public long Count { get; private set; }

    /// <summary>Statistics of no values yet.</summary>
    public ArrayStatistics()
    {
        Min = double.PositiveInfinity;
        Max = double.NegativeInfinity;
    }

    /// <summary>Statistics of <paramref name="values"/>.</summary>
    public static ArrayStatistics Of(ReadOnlySpan<double> values)
    {
        var statistics = new ArrayStatistics();
        statistics.Add(values);
        return statistics;
    }

    /// <summary>Adds <paramref name="values"/>.</summary>
    public void Add(ReadOnlySpan<double> values)
    {
        double min = Min, max = Max, sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<double>.Count)
        {
            var vectors = MemoryMarshal.Cast<double, Vector<double>>(values);
            var vmin = new Vector<double>(double.PositiveInfinity);
            var vmax = new Vector<double>(double.NegativeInfinity);
            var vsum = Vector<double>.Zero;
            foreach (var v in vectors)
            {
                vmin = Vector.ConditionalSelect(Vector.LessThan(v, vmin), v, vmin);
                vmax = Vector.ConditionalSelect(Vector.GreaterThan(v, vmax), v, vmax);
                vsum += v;
            }
            for (int lane = 0; lane < Vector<double>.Count; lane++)
            {
                if (vmin[lane] < min) min = vmin[lane];
                if (vmax[lane] > max) max = vmax[lane];
                sum += vsum[lane];
            }
            i = vectors.Length * Vector<double>.Count;
        }
        for (; i < values.Length; i++)
        {
            double v = values[i];
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
        }
        Min = min;
        Max = max;
        Sum += sum;
        Count += values.Length;
    }

    /// <summary>Adds the values summarised by <paramref name="other"/> (as if they had been added after these).</summary>
    public void Merge(in ArrayStatistics other)
    {
        if (other.Count == 0) return;
        if (other.Min < Min) Min = other.Min;
        if (other.Max > Max) Max = other.Max;
        Sum += other.Sum;
        Count += other.Count;
    }
}
