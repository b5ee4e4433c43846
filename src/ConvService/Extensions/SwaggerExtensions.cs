using System.Text.Json.Nodes;
using ConvService.Apis;
using ConvService.Http;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ConvService.Extensions;

/// <summary>Swagger document (with XML docs and example requests) and Swagger UI.</summary>
public static class SwaggerExtensions
{
    /// <summary>Registers the generator.</summary>
    public static IServiceCollection AddConvServiceSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "ConvService",
                Version = "v1",
                Description = "2-D convolutions with scipy.signal.convolve2d semantics, run as Hangfire jobs, and benchmarks of execution strategies.",
            });
            foreach (var xml in new[] { "ConvService.xml", "ConvService.Core.xml" })
            {
                string path = Path.Combine(AppContext.BaseDirectory, xml);
                if (File.Exists(path)) swagger.IncludeXmlComments(path);
            }
            swagger.OperationFilter<RequestExamplesFilter>();
            // The key a deployment may require for every state-changing request (ApiKeyMiddleware): declared once, so the
            // UI's Authorize button can hold it, and required on the mutating operations only, as the middleware does.
            swagger.AddSecurityDefinition(ApiKeySecurityFilter.SchemeId, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyRing.HeaderName,
                Description = "Required for POST and DELETE when the operator configured ConvService:ApiKeys; GET requests need none.",
            });
            swagger.OperationFilter<ApiKeySecurityFilter>();
        });
        return services;
    }

    /// <summary>Serves /swagger/v1/swagger.json and the UI at /swagger.</summary>
    public static WebApplication UseConvServiceSwagger(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(ui =>
        {
            ui.SwaggerEndpoint("/swagger/v1/swagger.json", "ConvService v1");
            ui.DocumentTitle = "ConvService API";
        });
        return app;
    }
}
/// <summary>
/// Marks every operation that <see cref="ApiKeyMiddleware"/> guards (any method but the safe ones) as needing the
/// <c>X-Api-Key</c> scheme, with the 401 it answers without one, so Swagger UI sends the key it was authorized with.
/// </summary>
internal sealed class ApiKeySecurityFilter : IOperationFilter
{
    /// <summary>The scheme's name in components/securitySchemes.</summary>
    public const string SchemeId = "ApiKey";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.HttpMethod is not { } method || ApiKeyMiddleware.IsSafe(method)) return;
        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", new OpenApiResponse
        {
            Description = $"An API key is configured and the {ApiKeyRing.HeaderName} header is missing or invalid (problem+json).",
        });
    }
}
