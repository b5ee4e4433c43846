using System.Text.Json;

namespace ConvService.Api.Tests.Security;

/// <summary>The Swagger document declares the X-Api-Key scheme and requires it exactly where the middleware does.</summary>
public sealed class SwaggerSecurityTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    [Fact]
    public async Task SwaggerDocument_DeclaresApiKeyScheme_OnMutatingOperationsOnly()
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
                bool hasKey = op.Value.TryGetProperty("security", out var security)
                    && security.EnumerateArray().Any(r => r.TryGetProperty("ApiKey", out _));
                Assert.True(mutating == hasKey, $"{op.Name.ToUpperInvariant()} {path.Name}: security {(hasKey ? "present" : "absent")}");
                if (mutating)
                {
                    Assert.True(op.Value.GetProperty("responses").TryGetProperty("401", out _), $"{op.Name} {path.Name} documents no 401");
                    guarded++;
                }
            }
        }
        // POST /convolutions, /arrays, /benchmarks and DELETE on each resource at least.
        Assert.True(guarded >= 6, $"only {guarded} operations need the key");
        Assert.True(paths.GetProperty("/convolutions").GetProperty("post").TryGetProperty("security", out _));
    }
}
