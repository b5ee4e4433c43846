using ConvService.Core.Arrays;
using ConvService.Options;
using ConvService.Storage;

namespace ConvService.Api.Tests.Storage;

/// <summary>
/// Results of one computation share a buffer in the in-memory store but keep their own ids: deleting one never
/// touches another, a checksum match alone never shares, and the byte budget counts a shared buffer once.
/// </summary>
public sealed class InMemoryArrayStoreTests
{
    private static InMemoryArrayStore Store(long budget = 1 << 20) =>
        new(Microsoft.Extensions.Options.Options.Create(new ConvServiceOptions { Limits = new LimitsOptions { ArrayStoreBytes = budget } }));

    private static Array2D Filled(int rows, int cols, double value)
    {
        var a = new Array2D(rows, cols);
        a.Span.Fill(value);
        return a;
    }

    [Fact]
    public async Task PutResult_SameComputationAndChecksum_SharesOneBufferUnderTwoIds()
    {
        var store = Store();
        var first = Filled(10, 10, 1.5);
        var second = Filled(10, 10, 1.5);
        string checksum = ResultDigest.Of(first).Checksum;
        var a = await store.PutBufferAsync(first, ArrayId.ForResult("job-a", checksum, "same inputs"));
        var b = await store.PutBufferAsync(second, ArrayId.ForResult("job-b", checksum, "same inputs"));
        Assert.True(a.KeptBuffer);
        Assert.False(b.KeptBuffer); // the caller may reuse its buffer
        Assert.NotEqual(a.Info.Id, b.Info.Id);
        Assert.Equal(800, store.Bytes);
        Assert.Same(first, await store.TryGetAsync(b.Info.Id));

        // Deleting one job's result leaves the other's.
        Assert.Equal(ArrayDeleteOutcome.Deleted, await store.DeleteAsync(a.Info.Id));
        Assert.Null(await store.TryGetAsync(a.Info.Id));
        Assert.Equal(1.5, (await store.TryGetAsync(b.Info.Id))!.Data[99]);
        Assert.Equal(800, store.Bytes);
        Assert.Equal(ArrayDeleteOutcome.Deleted, await store.DeleteAsync(b.Info.Id));
        Assert.Equal(0, store.Bytes);
    }

    [Fact]
    public async Task PutResult_SameChecksumOtherComputation_IsNotShared()
    {
        var store = Store();
        var first = Filled(4, 4, 2);
        string checksum = ResultDigest.Of(first).Checksum;
        var a = await store.PutBufferAsync(first, ArrayId.ForResult("job-a", checksum, "computation 1"));
        var b = await store.PutBufferAsync(Filled(4, 4, 2), ArrayId.ForResult("job-b", checksum, "computation 2"));
        Assert.True(a.KeptBuffer);
        Assert.True(b.KeptBuffer);
        Assert.Equal(2 * 128, store.Bytes);
    }

    [Fact]
    public async Task PutResult_SameComputationOtherChecksum_IsStoredSeparately()
    {
        // A deterministic convolution never does this; if it ever did, the store keeps both rather than trust the key.
        var store = Store();
        var one = Filled(3, 3, 1);
        var two = Filled(3, 3, 2);
        var a = await store.PutBufferAsync(one, ArrayId.ForResult("job-a", ResultDigest.Of(one).Checksum, "same"));
        var b = await store.PutBufferAsync(two, ArrayId.ForResult("job-b", ResultDigest.Of(two).Checksum, "same"));
        Assert.True(b.KeptBuffer);
        Assert.Equal(2, (await store.TryGetAsync(b.Info.Id))!.Data[0]);
        Assert.Equal(1, (await store.TryGetAsync(a.Info.Id))!.Data[0]);
    }

    [Fact]
    public async Task Eviction_OfASharedBuffer_RemovesEveryIdThatNamesIt_AndSparesPinnedOnes()
    {
        var store = Store(budget: 3 * 800);
        var shared = Filled(10, 10, 1);
        string checksum = ResultDigest.Of(shared).Checksum;
        var a = await store.PutBufferAsync(shared, ArrayId.ForResult("a", checksum, "k"));
        var b = await store.PutBufferAsync(Filled(10, 10, 1), ArrayId.ForResult("b", checksum, "k"));
        var pinned = await store.PutAsync(Filled(10, 10, 7));
        Assert.True(await store.PinAsync(pinned.Id));
        await store.PutAsync(Filled(10, 10, 8));
        await store.PutAsync(Filled(10, 10, 9)); // over budget: the least recently used unpinned buffer goes
        Assert.Null(await store.TryGetAsync(a.Info.Id));
        Assert.Null(await store.TryGetAsync(b.Info.Id));
        Assert.NotNull(await store.TryGetAsync(pinned.Id));
        Assert.Equal(ArrayDeleteOutcome.InUse, await store.DeleteAsync(pinned.Id));
    }

    [Fact]
    public async Task Upload_HasContentIdSha256AndChecksum()
    {
        var store = Store();
        var a = Filled(5, 6, 0.25);
        var info = await store.PutAsync(a);
        var hash = ArrayId.Compute(a);
        Assert.Equal(hash.Id, info.Id);
        Assert.Equal(64, info.Sha256!.Length);
        Assert.Equal(ResultDigest.Of(a).Checksum, info.Checksum);
        Assert.Equal(info.Id, (await store.PutAsync(Filled(5, 6, 0.25))).Id); // same content, same id
    }

    [Fact]
    public void ResultIds_DependOnlyOnTheJob()
    {
        var one = ArrayId.ForResult("0193a1b2c3d4e5f60718293a4b5c6d7e", "xxh128:00", "x");
        var again = ArrayId.ForResult("0193a1b2c3d4e5f60718293a4b5c6d7e", "xxh128:11", "y");
        var other = ArrayId.ForResult("0193a1b2c3d4e5f60718293a4b5c6d7f", "xxh128:00", "x");
        Assert.Equal(one.Id, again.Id);
        Assert.NotEqual(one.Id, other.Id);
        Assert.True(ArrayId.IsWellFormed(one.Id));
        Assert.Null(one.DataSha256);
    }
}
