using ConvService.Core.Arrays;
using ILGPU;
using ILGPU.Runtime;

namespace ConvService.Gpu;

/// <summary>
/// Inputs kept in device memory between launches, least recently used first out, within a byte budget: a benchmark's
/// image is copied to the device once, not once per convolution. Keyed by array id (content ids never change what they
/// name); an input without a key is uploaded for one launch and released after it.
/// </summary>
/// <remarks>Not thread-safe: <see cref="GpuConvolver"/> calls it under its launch lock.</remarks>
public sealed class DeviceArrayCache(Accelerator accelerator, long budgetBytes) : IDisposable
{
    private readonly Dictionary<string, LinkedListNode<(string Key, MemoryBuffer1D<double, Stride1D.Dense> Buffer)>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, MemoryBuffer1D<double, Stride1D.Dense> Buffer)> _lru = new();
    private readonly List<MemoryBuffer1D<double, Stride1D.Dense>> _transient = [];
    private long _bytes;

    /// <summary>Device bytes held by resident inputs.</summary>
    public long Bytes => _bytes;

    /// <summary>Uploads made (hits do not count): what a benchmark's report can check against one per input.</summary>
    public long Uploads { get; private set; }

    /// <summary>The array on the device: from the cache when <paramref name="key"/> is resident, otherwise uploaded.</summary>
    public MemoryBuffer1D<double, Stride1D.Dense> Resident(Array2D array, string? key) =>
        TryHit(key, out var resident) ? resident : Add(array, key);

    private bool TryHit(string? key, out MemoryBuffer1D<double, Stride1D.Dense> buffer)
    {
        if (key is not null && _byKey.TryGetValue(key, out var node))
        {
            _lru.Remove(node);
            _lru.AddFirst(node);
            buffer = node.Value.Buffer;
            return true;
        }
        buffer = null!;
        return false;
    }

    private MemoryBuffer1D<double, Stride1D.Dense> Add(Array2D array, string? key)
    {
        var buffer = Upload(array.Data);
        if (key is null || buffer.LengthInBytes > budgetBytes)
        {
            _transient.Add(buffer);
            return buffer;
        }
        while (_bytes + buffer.LengthInBytes > budgetBytes && _lru.Last is { } oldest)
        {
            _lru.RemoveLast();
            _byKey.Remove(oldest.Value.Key);
            _bytes -= oldest.Value.Buffer.LengthInBytes;
            oldest.Value.Buffer.Dispose();
        }
        _byKey[key] = _lru.AddFirst((key, buffer));
        _bytes += buffer.LengthInBytes;
        return buffer;
    }

    /// <summary>A bank of kernels as one contiguous device array (kernel k at k × taps), cached under the joined keys.</summary>
    public MemoryBuffer1D<double, Stride1D.Dense> ResidentBank(IReadOnlyList<Array2D> kernels, IReadOnlyList<string>? keys)
    {
        string? key = keys is null || keys.Count != kernels.Count ? null : "bank:" + string.Join(',', keys);
        if (TryHit(key, out var resident)) return resident; // packed only when it must be uploaded
        int taps = kernels[0].Data.Length;
        var packed = new Array2D(kernels.Count, taps);
        for (int k = 0; k < kernels.Count; k++) kernels[k].Data.AsSpan().CopyTo(packed.Row(k));
        return Add(packed, key);
    }

    /// <summary>Frees the one-launch uploads.</summary>
    public void ReleaseTransient()
    {
        foreach (var buffer in _transient) buffer.Dispose();
        _transient.Clear();
    }

    private MemoryBuffer1D<double, Stride1D.Dense> Upload(double[] data)
    {
        var buffer = accelerator.Allocate1D<double>(Math.Max(1, data.Length));
        if (data.Length > 0) buffer.View.BaseView.SubView(0, data.Length).CopyFromCPU(data);
        Uploads++;
        return buffer;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ReleaseTransient();
        foreach (var (_, buffer) in _lru) buffer.Dispose();
        _lru.Clear();
        _byKey.Clear();
        _bytes = 0;
    }
}
