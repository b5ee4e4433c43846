using ConvService.Core.Arrays;

namespace ConvService.Core.Convolution;

/// <summary>A prepared convolution that can compute any range of kept output rows, concurrently with other ranges.</summary>
internal interface IRowBandRunner : IDisposable
{
    /// <summary>Computes kept output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) into <paramref name="output"/>.</summary>
    void RunRows(Array2D output, int firstRow, int endRow);
}

/// <summary>Splits the kept output rows into bands: the unit of cancellation and of intra-image parallelism.</summary>
internal static class RowBands
{
    /// <summary>
    /// Small enough that cancellation is noticed within milliseconds and two threads balance, large enough
    /// that per-band setup (renting a few row pointers) is noise.
    /// </summary>
    public const int BandRows = 64;

    public static void Run(IRowBandRunner runner, Array2D output, int threads, CancellationToken cancellationToken)
    {
        int rows = output.Rows;
        int bands = (rows + BandRows - 1) / BandRows;
        if (threads <= 1 || bands <= 1)
        {
            for (int b = 0; b < bands; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                runner.RunRows(output, b * BandRows, Math.Min(rows, (b + 1) * BandRows));
            }
            return;
        }
        // Parallel.For checks the token before starting each band and throws OperationCanceledException itself.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        Parallel.For(0, bands, parallel, b => runner.RunRows(output, b * BandRows, Math.Min(rows, (b + 1) * BandRows)));
    }
}
