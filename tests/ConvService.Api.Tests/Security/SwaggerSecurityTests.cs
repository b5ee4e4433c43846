using System.Text.Json;

namespace ConvService.Api.Tests.Security;

/// <summary>
/// The Swagger document declares the X-Api-Key scheme and requires it exactly where the service does when keys are on:
/// every write, and every read of owned data (jobs, benchmarks, arrays) — the reads were missing before, so Swagger UI
/// sent no key on a GET and got 401.
/// </summary>
public sealed class SwaggerSecurityTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    [Fact]
    public async Task SwaggerDocument_DeclaresApiKeyScheme_OnWritesAndOwnedReadsOnly()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/swagger/v1/swagger.json");
        response.EnsureSuccessStatusCode();
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());

        var paths = doc.GetProperty("paths");
        int guarded = 0;
        foreach (var path in paths.EnumerateObject())
        {
            foreach (var op in path.Value.EnumerateObject())
            {
                bool mutating = op.Name is "post" or "put" or "patch" or "delete";
                bool ownedRead = !mutating && OwnedPrefixes.Any(prefix => path.Name == prefix || path.Name.StartsWith(prefix + "/", StringComparison.Ordinal));
                bool hasKey = op.Value.TryGetProperty("security", out var security)
                    && security.EnumerateArray().Any(r => r.TryGetProperty("ApiKey", out _));
                Assert.True(mutating || ownedRead == hasKey, $"{op.Name.ToUpperInvariant()} {path.Name}: security {(hasKey ? "present" : "absent")}");
                if (mutating || ownedRead)
                {
                    Assert.True(op.Value.GetProperty("responses").TryGetProperty("401", out _), $"{op.Name} {path.Name} documents no 401");
                    guarded++;
                }
            }
        }
        // POST /convolutions, /arrays, /benchmarks and DELETE on each resource at least.
        Assert.True(guarded >= 6, $"only {guarded} operations need the key");
        Assert.True(paths.GetProperty("/convolutions").GetProperty("post").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/convolutions/{id}").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/health").GetProperty("get").TryGetProperty("security", out _));
    }

    private static readonly string[] OwnedPrefixes = ["/convolutions", "/benchmarks", "/arrays"];
}
