namespace ConvService.Extensions;

/// <summary>
/// The web UI: plain HTML, CSS and JavaScript modules in <c>wwwroot</c>, served as static files with <c>/</c> answering
/// <c>index.html</c>. Nothing is built and nothing is loaded from elsewhere. The pages are GETs, which the API-key
/// check never guards; the pages send the key a person types in as <c>X-Api-Key</c> on their own POST and DELETE calls.
/// </summary>
public static class UiExtensions
{
    /// <summary>
    /// Lets a host started from its build output (<c>dotnet run</c>, any environment) find <c>wwwroot</c> in the project
    /// folder through the static web assets manifest, which ASP.NET Core reads by itself in Development only. A published
    /// host has no manifest and serves its own copied <c>wwwroot</c>.
    /// </summary>
    public static WebApplicationBuilder AddConvServiceUi(this WebApplicationBuilder builder)
    {
        builder.WebHost.UseStaticWebAssets();
        return builder;
    }

    /// <summary>Serves <c>/</c> and the UI's files.</summary>
    public static WebApplication UseConvServiceUi(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            // Pages and scripts change with the service: the browser revalidates (ETag) instead of running an old copy.
            OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache",
        });
        return app;
    }
}
