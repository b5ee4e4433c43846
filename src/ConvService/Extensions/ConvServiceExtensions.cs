namespace ConvService.Extensions;

/// <summary>Service registration and middleware for the ConvService host.</summary>
public static class ConvServiceExtensions
{
    /// <summary>Registers everything the service needs.</summary>
    public static WebApplicationBuilder AddConvService(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>Adds the middleware pipeline.</summary>
    public static WebApplication UseConvService(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
