using System.Net;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;
using ConvService.Core.Npy;
using ConvService.Options;
using ConvService.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests.Storage;

/// <summary>
/// Result buffers the array store did not keep are reused by later jobs of the same size; a reused buffer must never
/// leak its previous result, and the pool must stay within its byte budget.
/// </summary>
public sealed class ResultBufferPoolTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private static ResultBufferPool Pool(long budget, TimeProvider? time = null) =>
        new(Microsoft.Extensions.Options.Options.Create(new ConvServiceOptions { Limits = new LimitsOptions { ResultBufferPoolBytes = budget } }),
            time ?? new ManualClock());

    /// <summary>A clock moved by hand; its timers never fire on their own (tests call Trim).</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();
        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public void Trim_ReleasesOnlySizesIdleLongerThanTheLimit()
    {
        var clock = new ManualClock();
        var pool = Pool(64L << 20, clock);
        var idle = pool.Rent(300, 400);
        pool.Return(idle);
        clock.Ticks += (ResultBufferPool.IdleRelease - TimeSpan.FromSeconds(1)).Ticks;
        var busy = pool.Rent(500, 400);
        pool.Return(busy);
        pool.Trim();
        Assert.Equal((300L * 400 + 500L * 400) * sizeof(double), pool.Bytes); // nothing idle long enough yet

        clock.Ticks += TimeSpan.FromSeconds(2).Ticks;
        pool.Trim();
        Assert.Equal(500L * 400 * sizeof(double), pool.Bytes); // the 300×400 size went quiet
        Assert.Same(busy.Data, pool.Rent(500, 400).Data);
        Assert.NotSame(idle.Data, pool.Rent(300, 400).Data);
    }

    [Fact]
    public void Rent_AfterReturn_ReusesTheSameBufferForAnyShapeOfThatSize()
    {
        var pool = Pool(64L << 20);
        var first = pool.Rent(300, 400);
        pool.Return(first);
        Assert.Equal(300L * 400 * sizeof(double), pool.Bytes);
        var second = pool.Rent(400, 300);
        Assert.Same(first.Data, second.Data);
        Assert.Equal((400, 300), (second.Rows, second.Cols));
        Assert.Equal(0, pool.Bytes);
    }

    [Fact]
    public void SmallBuffers_AreNotPooled()
    {
        var pool = Pool(64L << 20);
        pool.Return(pool.Rent(32, 32));
        Assert.Equal(0, pool.Bytes);
    }

    [Fact]
    public void Return_StaysWithinBudget_DroppingOtherSizesFirst()
    {
        long one = 300L * 400 * sizeof(double);
        var pool = Pool(2 * one + 1);
        var a = pool.Rent(300, 400);
        var b = pool.Rent(300, 400);
        var c = pool.Rent(300, 400);
        pool.Return(a);
        pool.Return(b);
        pool.Return(c); // no room: dropped
        Assert.Equal(2 * one, pool.Bytes);

        var other = pool.Rent(350, 400);
        pool.Return(other); // makes room by dropping the 300×400 buffers
        Assert.True(pool.Bytes <= 2 * one + 1);
        Assert.Same(other.Data, pool.Rent(350, 400).Data);
    }

    [Fact]
    public void ZeroBudget_PoolsNothing()
    {
        var pool = Pool(0);
        pool.Return(pool.Rent(300, 400));
        Assert.Equal(0, pool.Bytes);
    }

    [Fact]
    public async Task RepeatedJob_ReturnsItsBuffer_AndTheNextJobOfThatSizeGetsItsOwnCorrectResult()
    {
        using var client = factory.CreateClient();
        var pool = factory.Services.GetRequiredService<ResultBufferPool>();
        const string image = """{"generate": {"shape": [600, 700], "fill": "normal", "seed": 31}}""";
        string Job(int kernelSeed) =>
            "{\"image\": " + image + ", \"kernel\": {\"generate\": {\"shape\": [4, 4], \"fill\": \"normal\", \"seed\": " + kernelSeed +
            "}}, \"mode\": \"full\", \"stride\": [2, 2]}";

        var first = await client.SubmitAndWaitAsync(Job(1));
        var repeat = await client.SubmitAndWaitAsync(Job(1));
        Assert.Equal("succeeded", repeat.GetProperty("status").GetString());
        // Its own result id (ids come from the job), the same checksum, and one stored buffer for both.
        Assert.NotEqual(first.GetProperty("result").GetProperty("arrayId").GetString(), repeat.GetProperty("result").GetProperty("arrayId").GetString());
        Assert.Equal(first.GetProperty("result").GetProperty("checksum").GetString(), repeat.GetProperty("result").GetProperty("checksum").GetString());
        // The repeat's result was already stored (the same computation), so its buffer went back to the pool.
        long outputBytes = 302L * 352 * sizeof(double);
        Assert.True(pool.Bytes >= outputBytes, $"pool holds {pool.Bytes} bytes, expected at least {outputBytes}");

        // The next job of the same size computes into that buffer: its result must be its own, exactly.
        var other = await client.SubmitAndWaitAsync(Job(2));
        var response = await client.SendAsync(ApiClient.Get($"/convolutions/{other.GetProperty("id").GetString()}/result", "application/x-npy"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var actual = NpyCodec.Read(await response.Content.ReadAsByteArrayAsync(), long.MaxValue);
        var expected = Convolver.Convolve2D(
            ArrayGenerator.Generate(600, 700, FillKind.Normal, 31), ArrayGenerator.Generate(4, 4, FillKind.Normal, 2),
            new ConvolutionOptions(StrideY: 2, StrideX: 2));
        Assert.Equal(expected.Data, actual.Data);
        // And the first result, stored from a buffer the store kept, is untouched.
        var firstResult = await client.SendAsync(ApiClient.Get($"/convolutions/{first.GetProperty("id").GetString()}/result", "application/x-npy"));
        var firstExpected = Convolver.Convolve2D(
            ArrayGenerator.Generate(600, 700, FillKind.Normal, 31), ArrayGenerator.Generate(4, 4, FillKind.Normal, 1),
            new ConvolutionOptions(StrideY: 2, StrideX: 2));
        Assert.Equal(firstExpected.Data, NpyCodec.Read(await firstResult.Content.ReadAsByteArrayAsync(), long.MaxValue).Data);
    }
}
