using System.Runtime.InteropServices;

namespace ConvService.Core.Arrays;

/// <summary>
/// Allocates the float64 buffers of large arrays the way numpy does on Linux: pinned, and advised to the kernel as
/// transparent-huge-page candidates (<c>madvise(MADV_HUGEPAGE)</c>, numpy's default for arrays of 4 MiB and more).
/// </summary>
/// <remarks>
/// Why: a convolution streams its image from memory, and a fresh output is touched page by page. On the reference
/// VM (THP "madvise" mode) a 4 KB page costs one fault on first touch (~700 per tutorial output, as long as the
/// convolution itself), and the 18,000 TLB entries of a 72 MB image slow the stream; 2 MB pages cut both by 512.
/// Pinned because the advice belongs to an address range: a compacting GC would move the array away from it.
/// Elsewhere (another OS, THP off, a failing call) the buffer is an ordinary pinned array.
/// </remarks>
internal static partial class LargeBuffers
{
    /// <summary>Buffers from this size up are advised; below it a huge page could not fit inside the buffer.</summary>
    public const long ThresholdBytes = 2L << 20;

    private const long HugePageBytes = 2L << 20;
    private const long LargeObjectBytes = 85_000;
    private const int MadvHugePage = 14;
    private static bool _adviceWorks = OperatingSystem.IsLinux();

    /// <summary>
    /// The process's large-object threshold (<c>System.GC.LOHThreshold</c> in runtimeconfig.json, 85,000 bytes unless
    /// raised). Arrays below it are small objects: they live in gen 0, where the GC hands the same memory out again
    /// after every gen-0 collection, so they are neither pinned nor advised.
    /// </summary>
    internal static readonly long SmallObjectLimit = AppContext.GetData("System.GC.LOHThreshold") switch
    {
        long v => Math.Max(v, LargeObjectBytes),
        int v => Math.Max(v, LargeObjectBytes),
        string v when long.TryParse(v, out long parsed) => Math.Max(parsed, LargeObjectBytes),
        _ => LargeObjectBytes,
    };

    /// <summary>A buffer of <paramref name="length"/> doubles, zeroed when <paramref name="zeroed"/>.</summary>
    public static double[] Allocate(int length, bool zeroed)
    {
        long bytes = length * (long)sizeof(double);
        if (bytes < SmallObjectLimit)
            return zeroed ? GC.AllocateArray<double>(length) : GC.AllocateUninitializedArray<double>(length);
        if (bytes < ThresholdBytes)
        {
            // Large-object-heap sized buffers go to the pinned heap too: measured, its memory came back warm after
            // gen-2 collections where the large-object heap's faulted in again.
            bool pinned = bytes >= LargeObjectBytes;
            return zeroed ? GC.AllocateArray<double>(length, pinned) : GC.AllocateUninitializedArray<double>(length, pinned);
        }
        var buffer = GC.AllocateUninitializedArray<double>(length, pinned: true);
        Advise(buffer);
        // After the advice, so that first touch of an untouched range faults in a huge page.
        if (zeroed) buffer.AsSpan().Clear();
        return buffer;
    }

    private static unsafe void Advise(double[] buffer)
    {
        if (!_adviceWorks) return;
        fixed (double* p = buffer)
        {
            nint start = (nint)(((long)p + HugePageBytes - 1) & ~(HugePageBytes - 1));
            nint end = (nint)(((long)(p + buffer.Length)) & ~(HugePageBytes - 1));
            if (end <= start) return;
            try
            {
                // Advice only: failure (e.g. a kernel built without THP) leaves ordinary pages, never an error.
                if (Madvise(start, (nuint)(end - start), MadvHugePage) != 0) _adviceWorks = false;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _adviceWorks = false;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
