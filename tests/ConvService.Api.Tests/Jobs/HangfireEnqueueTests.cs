using ConvService.Http;
using ConvService.Jobs;
using ConvService.Model;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace ConvService.Api.Tests.Jobs;

/// <summary>Handing work to Hangfire: the id on success; on a storage failure the record is undone and the caller gets 503.</summary>
public sealed class HangfireEnqueueTests
{
    private sealed class FakeClient(Exception? failure) : IBackgroundJobClient
    {
        public string? Queue { get; private set; }
        public string Create(Job job, IState state)
        {
            if (failure is not null) throw failure;
            Queue = (state as EnqueuedState)?.Queue;
            return "42";
        }
        public bool ChangeState(string jobId, IState state, string expectedState) => throw new NotSupportedException();
    }

    private static Job AnyJob() => Job.FromExpression(() => Console.WriteLine());

    [Fact]
    public async Task Success_ReturnsTheHangfireId_AndUndoesNothing()
    {
        var client = new FakeClient(null);
        bool undone = false;
        string id = await HangfireEnqueue.CreateOrUndoAsync(client, AnyJob(), "benchmarks", "benchmark", () => { undone = true; return Task.CompletedTask; });
        Assert.Equal("42", id);
        Assert.Equal("benchmarks", client.Queue);
        Assert.False(undone);
    }

    [Fact]
    public async Task StorageFailure_UndoesTheRecord_AndAnswers503SayingNothingWasAccepted()
    {
        bool undone = false;
        var e = await Assert.ThrowsAsync<RequestRefusedException>(() => HangfireEnqueue.CreateOrUndoAsync(
            new FakeClient(new TimeoutException("storage down")), AnyJob(), "benchmarks", "benchmark",
            () => { undone = true; return Task.CompletedTask; }));
        Assert.True(undone);
        Assert.Equal(503, RefusalStatus.Of(e.Kind));
        Assert.Contains("benchmark could not be queued", e.Message);
        Assert.Contains("nothing was accepted", e.Message);
    }
}
