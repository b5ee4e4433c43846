using ConvService.Core.Generators;
using ConvService.Jobs;

namespace ConvService.Api.Tests.Jobs;

public sealed class GeneratedArrayIdsTests
{
    private static GeneratedArrayKey Key(int seed) => new(3000, 3000, FillKind.Normal, seed);

    [Fact]
    public void Remember_PastCapacity_ForgetsTheLeastRecentlyUsedSpec()
    {
        var ids = new GeneratedArrayIds(capacity: 2);
        ids.Remember(Key(1), "a");
        ids.Remember(Key(2), "b");
        Assert.True(ids.TryGet(Key(1), out _)); // 1 is now the most recently used
        ids.Remember(Key(3), "c");

        Assert.Equal(2, ids.Count);
        Assert.True(ids.TryGet(Key(1), out var first) && first == "a");
        Assert.False(ids.TryGet(Key(2), out _));
        Assert.True(ids.TryGet(Key(3), out var third) && third == "c");
    }

    [Fact]
    public void Remember_SameSpecAgain_ReplacesItsIdWithoutGrowing()
    {
        var ids = new GeneratedArrayIds(capacity: 2);
        ids.Remember(Key(1), "a");
        ids.Remember(Key(1), "a2");

        Assert.Equal(1, ids.Count);
        Assert.True(ids.TryGet(Key(1), out var id) && id == "a2");
    }
}
