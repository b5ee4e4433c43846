using ConvService.Core.Arrays;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;
using ConvService.Storage;

namespace ConvService.Api.Tests.Postgres;

/// <summary>Hosts configured as nodes on one PostgreSQL database, and the job helpers the scale-out tests share.</summary>
internal static class PgNodes
{
    /// <summary>An in-process node. A short invisibility timeout makes a dead node's jobs come back within seconds.</summary>
    public static ConvServiceFactory Create(string connectionString, string node, int workers = 2, double invisibilitySeconds = 15) =>
        new ConvServiceFactory()
            .With("ConvService:Storage", "PostgreSql")
            .With("ConnectionStrings:ConvService", connectionString)
            .With("ConvService:NodeName", node)
            .With("ConvService:Workers", workers.ToString(CultureInfo.InvariantCulture))
            .With("ConvService:PostgreSql:InvisibilityTimeoutSeconds", invisibilitySeconds.ToString(CultureInfo.InvariantCulture))
            .With("ConvService:PostgreSql:QueuePollIntervalSeconds", "0.2");

    /// <summary>
    /// A job body: a generated image and kernel, so the expected result can be computed here. Sizes stay small: the
    /// reference loop in a Debug build (what CI runs) costs about 100 ns a multiply-add, so 150×150 ⊛ 15×15 is ~0.6 s.
    /// </summary>
    public static string Body(int size, int kernel, int seed) =>
        $$$"""{"image": {"generate": {"shape": [{{{size}}}, {{{size}}}], "fill": "normal", "seed": {{{seed}}}}}, "kernel": {"generate": {"shape": [{{{kernel}}}, {{{kernel}}}], "fill": "uniform", "seed": {{{seed + 1}}}}}, "mode": "same", "method": "naive"}""";

    /// <summary>Checksum of the result <see cref="Body"/> must produce, computed in-process by the same core.</summary>
    public static string ExpectedChecksum(int size, int kernel, int seed) => ResultDigest.Of(Convolver.Convolve2D(
        ArrayGenerator.Generate(size, size, FillKind.Normal, seed), ArrayGenerator.Generate(kernel, kernel, FillKind.Uniform, seed + 1),
        new ConvolutionOptions(Mode: ConvolutionMode.Same, Method: ConvolutionMethod.Naive))).Checksum;

    public static async Task<string> SubmitAsync(HttpClient client, string body)
    {
        var response = await client.PostAsync("/convolutions", ApiClient.Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"Expected 202 but got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> GetJobAsync(HttpClient client, string id)
    {
        var response = await client.GetAsync($"/convolutions/{id}");
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET job {id}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls until every job has finished; fails naming the stragglers after <paramref name="timeout"/>.</summary>
    public static async Task<Dictionary<string, JsonElement>> WaitFinishedAsync(HttpClient client, IReadOnlyCollection<string> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var finished = new Dictionary<string, JsonElement>();
        while (true)
        {
            foreach (var id in ids.Where(i => !finished.ContainsKey(i)).ToList())
            {
                var job = await GetJobAsync(client, id);
                if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") finished[id] = job;
            }
            if (finished.Count == ids.Count) return finished;
            if (DateTime.UtcNow > deadline)
            {
                var stuck = ids.Where(i => !finished.ContainsKey(i)).Take(5).ToList();
                var records = new List<string>();
                foreach (var id in stuck) records.Add((await GetJobAsync(client, id)).GetRawText());
                Assert.Fail($"{ids.Count - finished.Count} of {ids.Count} jobs did not finish within {timeout.TotalSeconds:F0} s: " +
                    string.Join(", ", stuck) + "; their records: " + string.Join(" | ", records));
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Every job row as the database holds it now (status, node, attempts), read directly, not through a node.</summary>
    public static async Task<Dictionary<string, (string Status, string? Node, int Attempts)>> ReadJobRowsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT id, status, record->>'node', (record->>'attempts')::int FROM convservice.jobs", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, (string, string?, int)>();
        while (await reader.ReadAsync())
            rows[reader.GetString(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt32(3));
        return rows;
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
