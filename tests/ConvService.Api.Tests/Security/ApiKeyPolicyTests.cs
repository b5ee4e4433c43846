using System.Net;
using System.Text.Json;
using ConvService.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests.Security;

/// <summary>
/// The key rule as authorization metadata: every owned-data endpoint carries an ApiKey policy, the fallback policy
/// covers what no endpoint claims, and the OpenAPI document is derived from the same metadata.
/// </summary>
public sealed class ApiKeyPolicyTests(KeyedHost host) : IClassFixture<KeyedHost>
{
    private static readonly string[] OwnedPrefixes = ["/convolutions", "/benchmarks", "/arrays"];

    [Fact]
    public void OwnedDataEndpoints_CarryStateChangeOnWritesAndOwnedReadOnReads_OthersNone()
    {
        host.Factory.CreateClient().Dispose(); // builds the host
        var endpoints = host.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        int owned = 0;
        foreach (var endpoint in endpoints)
        {
            string pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [];
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (OwnedPrefixes.Any(p => pattern.StartsWith(p, StringComparison.Ordinal)))
            {
                owned++;
                string expected = methods.All(HttpMethodSafety.IsSafe) ? ApiKeyPolicies.OwnedRead : ApiKeyPolicies.StateChange;
                Assert.True(policies.SequenceEqual([expected]), $"{string.Join(",", methods)} {pattern}: [{string.Join(", ", policies)}], expected {expected}");
            }
            else
            {
                Assert.True(policies.Count == 0, $"{string.Join(",", methods)} {pattern} is not owned data but has [{string.Join(", ", policies)}]");
            }
        }
        Assert.True(owned >= 12, $"only {owned} owned-data endpoints found");
    }

    [Theory]
    [InlineData("POST", "/no-such-route")]
    [InlineData("DELETE", "/nodes")]
    [InlineData("PUT", "/health")]
    public async Task UnmatchedWrite_WithoutKey_Is401ProblemFromTheFallbackPolicy(string method, string url)
    {
        using var client = host.Factory.CreateClient();
        var response = await client.SendAsync(Ops.Request(new HttpMethod(method), url, content: ApiClient.Json("{}")));
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "X-Api-Key header");
        Assert.Equal("API key required", problem.GetProperty("title").GetString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Fact]
    public async Task UnmatchedWrite_WithKey_GetsTheRoutingAnswer()
    {
        using var client = host.Factory.CreateClient();
        var notFound = await client.SendAsync(Ops.Request(HttpMethod.Post, "/no-such-route", Ops.KeyA, ApiClient.Json("{}")));
        await notFound.AssertProblemAsync(HttpStatusCode.NotFound);
        var notAllowed = await client.SendAsync(Ops.Request(HttpMethod.Put, "/convolutions/0123456789abcdef0123456789abcdef", Ops.KeyA, ApiClient.Json("{}")));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, notAllowed.StatusCode);
    }

    [Fact]
    public async Task SwaggerDocument_DocumentsThe401OnOwnedReads_AndNothingOnOpenEndpoints()
    {
        using var client = host.Factory.CreateClient();
        var doc = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json")).RootElement;
        var paths = doc.GetProperty("paths");
        foreach (var path in paths.EnumerateObject())
        {
            bool ownedPath = OwnedPrefixes.Any(p => path.Name.StartsWith(p, StringComparison.Ordinal));
            foreach (var op in path.Value.EnumerateObject())
            {
                bool documents401 = op.Value.GetProperty("responses").TryGetProperty("401", out _);
                Assert.True(ownedPath == documents401, $"{op.Name} {path.Name}: 401 {(documents401 ? "documented" : "missing")}");
            }
        }
        Assert.False(paths.GetProperty("/health/ready").GetProperty("get").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/convolutions").GetProperty("get").TryGetProperty("security", out _)); // owned reads need the key too
    }
}
