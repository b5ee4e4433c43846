using ConvService.Model;
using ConvService.Storage;

namespace ConvService.Jobs;

/// <summary>Pins a job's inputs while it is queued or running, so eviction cannot take them away.</summary>
public static class JobInputs
{
    /// <summary>Pins both inputs; false (with nothing left pinned) when one is gone already.</summary>
    public static ValueTask<bool> PinAsync(IArrayStore arrays, NormalizedConvolution request, string? owner) => arrays.For(owner).PinAllAsync(Ids(request));

    /// <summary>Releases the pins taken at submission (call once, on the transition to a final status).</summary>
    public static ValueTask ReleaseAsync(IArrayStore arrays, ConvolutionJobRecord record) => arrays.For(record.Owner).UnpinAllAsync(Ids(record.Request));

    private static string[] Ids(NormalizedConvolution request)
    {
        var ids = new string[1 + request.AllKernels.Count];
        ids[0] = request.Image.ArrayId;
        for (int k = 0; k < request.AllKernels.Count; k++) ids[k + 1] = request.AllKernels[k].ArrayId;
        return ids;
    }
}
