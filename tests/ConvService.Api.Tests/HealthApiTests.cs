using System.Net;
using System.Net.Http.Json;

namespace ConvService.Api.Tests;

public sealed class HealthApiTests(ConvServiceFactory factory) : IClassFixture<ConvServiceFactory>
{
    [Fact]
    public async Task GetHealth_Always_ReturnsHealthy()
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.Equal("healthy", body!["status"]);
    }
}
