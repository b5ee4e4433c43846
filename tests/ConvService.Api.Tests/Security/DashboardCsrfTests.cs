using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;

namespace ConvService.Api.Tests.Security;

/// <summary>A cross-site form POST to the local dashboard is refused: read-only by default, antiforgery when writable.</summary>
public sealed class DashboardCsrfTests
{
    /// <summary>Sends a request as a browser on the machine itself would (loopback), which the local dashboard trusts.</summary>
    private static async Task<HttpContext> SendLocalAsync(ConvServiceFactory factory, string method, string path, string? form = null)
    {
        _ = factory.Server; // starts the host
        return await factory.Server.SendAsync(context =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Loopback;
            context.Connection.LocalIpAddress = IPAddress.Loopback;
            context.Request.Method = method;
            context.Request.Path = path;
            context.Request.Headers.Origin = "https://evil.example";
            if (form is not null)
            {
                context.Request.ContentType = "application/x-www-form-urlencoded";
                var bytes = System.Text.Encoding.UTF8.GetBytes(form);
                context.Request.Body = new MemoryStream(bytes);
                context.Request.ContentLength = bytes.Length;
            }
        });
    }

    private static async Task<string> BodyAsync(HttpContext context)
    {
        return await new StreamReader(context.Response.Body).ReadToEndAsync();
    }

    [Theory]
    [InlineData("/hangfire/jobs/enqueued/delete")]
    [InlineData("/hangfire/jobs/failed/requeue")]
    [InlineData("/hangfire/recurring/trigger")]
    public async Task CrossSiteFormPost_ToDefaultDashboard_Is403(string path)
    {
        using var factory = new ConvServiceFactory();
        var local = await SendLocalAsync(factory, "GET", "/hangfire");
        Assert.Equal(StatusCodes.Status200OK, local.Response.StatusCode); // the local dashboard itself is served
        var response = await SendLocalAsync(factory, "POST", path, "jobs%5B%5D=0123");
        Assert.Equal(StatusCodes.Status403Forbidden, response.Response.StatusCode);
        Assert.Contains("read-only", await BodyAsync(response));
    }

    [Fact]
    public async Task CrossSiteFormPost_ToWritableDashboard_WithoutAntiforgeryToken_Is403()
    {
        using var factory = new ConvServiceFactory().With("ConvService:DashboardReadOnly", "false");
        var response = await SendLocalAsync(factory, "POST", "/hangfire/jobs/enqueued/delete", "jobs%5B%5D=0123");
        Assert.Equal(StatusCodes.Status403Forbidden, response.Response.StatusCode);
        Assert.Contains("antiforgery", await BodyAsync(response));
    }

    [Fact]
    public async Task StatsPoll_OfReadOnlyDashboard_StillAnswers()
    {
        using var factory = new ConvServiceFactory();
        var response = await SendLocalAsync(factory, "POST", "/hangfire/stats", "metrics%5B%5D=enqueued%3Acount");
        Assert.Equal(StatusCodes.Status200OK, response.Response.StatusCode);
    }
}
