using ConvService.Core.Arrays;
using ConvService.Storage.Postgres;

namespace ConvService.Api.Tests.Storage;

/// <summary>The PostgreSQL node's cache of downloaded arrays: least recently used out first, never over its budget.</summary>
public sealed class NodeArrayCacheTests
{
    private static Array2D Values(int count) => new(1, count); // count × 8 bytes

    [Fact]
    public void Add_OverBudget_EvictsTheLeastRecentlyUsed()
    {
        var cache = new NodeArrayCache(budgetBytes: 3 * 80);
        Array2D a = Values(10), b = Values(10), c = Values(10), d = Values(10);
        cache.Add("a", a);
        cache.Add("b", b);
        cache.Add("c", c);
        Assert.Same(a, cache.TryGet("a")); // a is now the most recently used; b the least
        cache.Add("d", d);

        Assert.Null(cache.TryGet("b"));
        Assert.Same(a, cache.TryGet("a"));
        Assert.Same(c, cache.TryGet("c"));
        Assert.Same(d, cache.TryGet("d"));
        Assert.Equal(240, cache.Bytes);
    }

    [Fact]
    public void Add_LargerThanTheWholeBudget_IsNotKept_AndEvictsNothing()
    {
        var cache = new NodeArrayCache(budgetBytes: 100);
        var small = Values(10);
        cache.Add("small", small);
        cache.Add("huge", Values(13));
        Assert.Null(cache.TryGet("huge"));
        Assert.Same(small, cache.TryGet("small"));
        Assert.Equal(80, cache.Bytes);
    }

    [Fact]
    public void Remove_ForgetsTheCopy_AndItsBytes()
    {
        var cache = new NodeArrayCache(budgetBytes: 1000);
        cache.Add("a", Values(10));
        cache.Add("a", Values(10)); // a second add of the same id keeps the first copy
        Assert.Equal(80, cache.Bytes);
        cache.Remove("a");
        cache.Remove("a");
        Assert.Null(cache.TryGet("a"));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void ZeroBudget_KeepsNothing()
    {
        var cache = new NodeArrayCache(budgetBytes: 0);
        cache.Add("a", Values(1));
        cache.Add("empty", new Array2D(0, 5));
        Assert.Null(cache.TryGet("a"));
        Assert.Null(cache.TryGet("empty"));
    }
}
