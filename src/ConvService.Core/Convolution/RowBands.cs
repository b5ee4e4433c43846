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
    /// <remarks>The same height as <see cref="ResultDigest.BandRows"/>, so each band is digested right after it is written.</remarks>
    public const int BandRows = ResultDigest.BandRows;

    public static void Run(IRowBandRunner runner, Array2D output, int threads, ResultDigest? digest, CancellationToken cancellationToken)
    {
        int rows = output.Rows;
        int bands = (rows + BandRows - 1) / BandRows;
        if (digest is null)
            ForEach(bands, threads, cancellationToken, b => runner.RunRows(output, b * BandRows, Math.Min(rows, (b + 1) * BandRows)));
        else
            ForEach(bands, threads, cancellationToken, b =>
            {
                // In steps that fit in L2, each digested right after it is written: a whole 64-row band of a 3000-wide
                // output (1.5 MB) was half evicted by then, and the digest cost 34 % of a full-resolution convolution.
                int end = Math.Min(rows, (b + 1) * BandRows), step = digest.StepRows;
                for (int first = b * BandRows; first < end; first += step)
                {
                    int last = Math.Min(end, first + step);
                    runner.RunRows(output, first, last);
                    digest.AddRows(output, first, last);
                }
            });
    }

    /// <summary>
    /// Drives a filter bank: for each band of output rows, in steps whose input rows fit in a core's L2, every runner
    /// computes the step's rows (and its digest takes them) before the next step, so each input row is read from memory
    /// about once for the whole bank. Null runners (kernels computed on their own) are skipped.
    /// </summary>
    /// <param name="runners">One runner per kernel, or null.</param>
    /// <param name="outputs">One output per kernel, all of one shape.</param>
    /// <param name="inputValuesPerOutputRow">Image values one more kept output row reads anew (image columns × row stride).</param>
    /// <param name="threads">Threads the bands are spread over.</param>
    /// <param name="digests">Optional digests, one per kernel.</param>
    /// <param name="cancellationToken">Checked before each band.</param>
    public static void RunBank(IRowBandRunner?[] runners, Array2D[] outputs, int inputValuesPerOutputRow, int threads, ResultDigest[]? digests,
        CancellationToken cancellationToken)
    {
        if (Array.TrueForAll(runners, r => r is null)) return;
        int rows = outputs[0].Rows;
        int bands = (rows + BandRows - 1) / BandRows;
        // 65536 doubles = 512 KB of fresh input per step, half a core's L2 here (256 KB and 1 MB measured no better); even, so
        // stride-1 row pairs stay pairs.
        int step = Math.Clamp(65536 / Math.Max(1, inputValuesPerOutputRow), 2, BandRows) & ~1;
        var (groups, fused) = FusedGroups(runners, outputs);
        try
        {
            RunBankSteps(runners, outputs, groups, fused, rows, bands, step, threads, digests, cancellationToken);
        }
        finally
        {
            foreach (var group in groups) group.Dispose();
        }
    }

    private static void RunBankSteps(IRowBandRunner?[] runners, Array2D[] outputs, List<Direct.DirectConvolution.FusedGroup> groups, bool[] fused,
        int rows, int bands, int step, int threads, ResultDigest[]? digests, CancellationToken cancellationToken)
    {
        ForEach(bands, threads, cancellationToken, b =>
        {
            int end = Math.Min(rows, (b + 1) * BandRows);
            for (int first = b * BandRows; first < end; first += step)
            {
                int last = Math.Min(end, first + step);
                foreach (var group in groups) group.RunRows(first, last);
                for (int k = 0; k < runners.Length; k++)
                {
                    if (runners[k] is not { } runner) continue;
                    if (!fused[k]) runner.RunRows(outputs[k], first, last);
                    digests?[k].AddRows(outputs[k], first, last);
                }
            }
        });
    }

    /// <summary>
    /// Groups the bank's direct runners that read the same rows with one-vector kernels (the tutorial's 4×4 at stride 5),
    /// so each group loads every input window once for all its kernels; groups of one are left to their own runner.
    /// </summary>
    private static (List<Direct.DirectConvolution.FusedGroup> Groups, bool[] Fused) FusedGroups(
        IRowBandRunner?[] runners, Array2D[] outputs)
    {
        var groups = new List<Direct.DirectConvolution.FusedGroup>();
        var fused = new bool[runners.Length];
        for (int k = 0; k < runners.Length; k++)
        {
            if (fused[k] || runners[k] is not Direct.DirectConvolution { Fusable: true } lead) continue;
            var members = new List<int> { k };
            for (int o = k + 1; o < runners.Length; o++)
                if (!fused[o] && runners[o] is Direct.DirectConvolution other && lead.SharesRowsWith(other)) members.Add(o);
            if (members.Count < 2) continue;
            foreach (int m in members) fused[m] = true;
            groups.Add(new Direct.DirectConvolution.FusedGroup(members.Select(m => (Direct.DirectConvolution)runners[m]!).ToArray(),
                members.Select(m => outputs[m]).ToArray()));
        }
        return (groups, fused);
    }

    /// <summary>
    /// Runs work items [0, <paramref name="count"/>) in order on the calling thread, or across up to
    /// <paramref name="threads"/> threads; cancellation is checked before each item. The FFT's row and column passes use it too.
    /// </summary>
    public static void ForEach(int count, int threads, CancellationToken cancellationToken, Action<int> body)
    {
        if (threads <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(i);
            }
            return;
        }
        // Parallel.For checks the token before starting each item and throws OperationCanceledException itself.
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, body);
    }
}
