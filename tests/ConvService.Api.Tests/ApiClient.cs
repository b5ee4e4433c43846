using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ConvService.Api.Tests;

/// <summary>Small helpers that keep the tests about behaviour, not plumbing.</summary>
internal static class ApiClient
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200 or 20 s pass (the Hangfire servers start in the background); the last answer.</summary>
    public static async Task<HttpResponseMessage> WaitUntilReadyAsync(this HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpResponseMessage response;
        do { response = await client.GetAsync("/health/ready"); } while (response.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline && await Task.Delay(100).ContinueWith(_ => true));
        return response;
    }

    /// <summary>Asserts a problem+json answer with the status and a detail containing <paramref name="detailFragment"/>.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string? detailFragment = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        string detail = problem.GetProperty("detail").GetString() ?? "";
        Assert.False(string.IsNullOrWhiteSpace(detail), "problem has no detail");
        if (detailFragment is not null) Assert.Contains(detailFragment, detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", body); // no stack traces
        return problem;
    }

    /// <summary>
    /// Posts <paramref name="slowBody"/> (which must still be queued or running after), then <paramref name="secondBody"/>
    /// to <paramref name="path"/>; asserts the second gets 429 with Retry-After naming <paramref name="limit"/>, and cancels the first.
    /// </summary>
    public static async Task AssertSecondRefusedWith429Async(this HttpClient client, string path, string slowBody, string secondBody, string limit)
    {
        var slow = await client.PostAsync(path, Json(slowBody));
        Assert.Equal(HttpStatusCode.Accepted, slow.StatusCode);
        var refused = await client.PostAsync(path, Json(secondBody));
        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, limit);
        Assert.NotNull(refused.Headers.RetryAfter);
        await client.DeleteAsync(slow.Headers.Location);
    }

    public static async Task<JsonElement> SubmitAndWaitAsync(this HttpClient client, string body, int waitSeconds = 30)
    {
        var response = await client.PostAsync($"/convolutions?wait={waitSeconds}", Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200 but got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static double[][] ToRows(JsonElement element)
    {
        var rows = new double[element.GetArrayLength()][];
        int i = 0;
        foreach (var row in element.EnumerateArray())
        {
            rows[i] = new double[row.GetArrayLength()];
            int j = 0;
            foreach (var v in row.EnumerateArray()) rows[i][j++] = v.GetDouble();
            i++;
        }
        return rows;
    }

    public static HttpRequestMessage Get(string url, string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return request;
    }

    public static ByteArrayContent Bytes(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }
}
