using ConvService.Model;
using System.Net;
using System.Text.Json;

namespace ConvService.Api.Tests;

/// <summary><c>POST /convolutions/batch</c> on in-memory storage (the PostgreSQL path: Postgres/PostgresBatchTests).</summary>
public sealed class ConvolutionBatchApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    private const string SmallSame = """{"image": {"data": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, "kernel": {"data": [[0, 1], [1, 0.5]]}, "mode": "same"}""";
    private const string BadMode = """{"image": {"data": [[1, 2], [3, 4]]}, "kernel": {"data": [[1]]}, "mode": "sideways"}""";
    private const string NanAwareCorrelation = """{"image": {"data": [[1, 2], [3, 4]]}, "kernel": {"data": [[1]]}, "nanTreatment": "interpolate", "operation": "correlate"}""";

    [Fact]
    public async Task SubmitBatch_ValidAndInvalidJobs_Returns202ListingEachJobOrItsRefusal()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/convolutions/batch", ApiClient.Json($$"""{"jobs": [{{SmallSame}}, {{BadMode}}, {{NanAwareCorrelation}}, {{SmallSame}}, null]}"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        Assert.Equal(3, body.GetProperty("refused").GetInt32());
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3, 4], items.Select(i => i.GetProperty("index").GetInt32()));
        Assert.Equal(["accepted", "refused", "refused", "accepted", "refused"], items.Select(i => i.GetProperty("outcome").GetString()));
        Assert.Equal(400, items[1].GetProperty("problem").GetProperty("status").GetInt32());
        Assert.Contains("sideways", items[1].GetProperty("problem").GetProperty("detail").GetString());
        Assert.Equal(422, items[2].GetProperty("problem").GetProperty("status").GetInt32()); // astropy has no NaN-aware correlation
        Assert.Equal(400, items[4].GetProperty("problem").GetProperty("status").GetInt32());

        // scipy.signal.convolve2d([[1,2,3],[4,5,6],[7,8,9]], [[0,1],[1,0.5]], mode='same')
        double[][] expected = [[0, 1, 2], [1, 6.5, 9], [4, 14, 16.5]];
        foreach (var item in new[] { items[0], items[3] })
        {
            string id = item.GetProperty("id").GetString()!;
            Assert.Equal($"/convolutions/{id}", item.GetProperty("links").GetProperty("self").GetString());
            var job = await WaitAsync(client, id);
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            var result = await client.GetAsync(item.GetProperty("links").GetProperty("result").GetString());
            Assert.Equal(expected, ApiClient.ToRows(await result.ReadJsonAsync()));
        }
    }

    [Fact]
    public async Task SubmitBatch_OverMaxBatchJobs_Returns413AndQueuesNothing()
    {
        using var limited = new ConvServiceFactory().With("ConvService:Limits:MaxBatchJobs", "2");
        using var client = limited.CreateClient();
        var response = await client.PostAsync("/convolutions/batch", ApiClient.Json($$"""{"jobs": [{{SmallSame}}, {{SmallSame}}, {{SmallSame}}]}"""));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "MaxBatchJobs");
        var list = await (await client.GetAsync("/convolutions")).ReadJsonAsync();
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"jobs": []}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("""{}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"jobs": 3}""", HttpStatusCode.BadRequest)]
    public async Task SubmitBatch_BatchItselfMalformed_IsRefusedWhole(string body, HttpStatusCode status)
    {
        using var client = factory.CreateClient();
        await (await client.PostAsync("/convolutions/batch", ApiClient.Json(body))).AssertProblemAsync(status);
    }

    [Fact]
    public async Task SubmitBatch_MoreJobsThanTheQueueHolds_Returns429()
    {
        using var limited = new ConvServiceFactory().With("ConvService:Limits:MaxQueuedJobs", "2");
        using var client = limited.CreateClient();
        var response = await client.PostAsync("/convolutions/batch", ApiClient.Json($$"""{"jobs": [{{SmallSame}}, {{SmallSame}}, {{SmallSame}}]}"""));
        await response.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    private static async Task<JsonElement> WaitAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var job = await (await client.GetAsync($"/convolutions/{id}")).ReadJsonAsync();
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled" || DateTime.UtcNow > deadline) return job;
            await Task.Delay(20);
        }
    }
}
