using ConvService.Core.Arrays;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.Random;

namespace ConvService.Core.Generators;

/// <summary>
/// Seeded test-array generator. The stream is MathNet's <see cref="Xoshiro256StarStar"/> seeded through
/// SplitMix64: pure 64-bit integer arithmetic, so the same seed yields the same uniform values on every
/// machine and runtime. Normals come from MathNet's polar (Marsaglia) transform, which adds only
/// <see cref="Math.Log(double)"/> and <see cref="Math.Sqrt"/> on top of that stream.
/// This is NOT numpy's bit stream: <c>np.random.default_rng(seed)</c> (PCG64 + ziggurat) gives different
/// numbers for the same seed, so never compare our arrays with numpy's by seed — exchange .npy files instead.
/// Changing the generator or MathNet's sampling code changes every seeded array; a golden-checksum test guards that.
/// </summary>
public static class ArrayGenerator
{
    /// <summary>
    /// A <paramref name="rows"/> × <paramref name="cols"/> array filled as <paramref name="fill"/> says.
    /// <see cref="FillKind.Zeros"/> ignores the seed and costs one allocation.
    /// </summary>
    public static Array2D Generate(int rows, int cols, FillKind fill, int seed) => fill switch
    {
        FillKind.Zeros => new Array2D(rows, cols),
        FillKind.Normal => RandomNormal(rows, cols, seed),
        FillKind.Uniform => RandomUniform(rows, cols, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(fill), fill, "Use Zeros, Normal or Uniform."),
    };

    /// <summary>Standard normal N(0, 1) samples, row-major, deterministic for a seed.</summary>
    public static Array2D RandomNormal(int rows, int cols, int seed)
    {
        var array = Array2D.CreateUninitialized(rows, cols);
        if (!array.IsEmpty)
            Normal.Samples(CreateSource(seed), array.Data, 0.0, 1.0);
        return array;
    }

    /// <summary>Uniform samples on [0, 1), row-major, deterministic for a seed.</summary>
    public static Array2D RandomUniform(int rows, int cols, int seed)
    {
        var array = Array2D.CreateUninitialized(rows, cols);
        if (!array.IsEmpty)
            CreateSource(seed).NextDoubles(array.Data);
        return array;
    }

    // Thread safety would only add a lock per draw; each call owns its source.
    private static Xoshiro256StarStar CreateSource(int seed) => new(seed, threadSafe: false);
}
