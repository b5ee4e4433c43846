using System.Text.Json.Nodes;
using ConvService.Apis;
using ConvService.Http;
using Microsoft.AspNetCore.Authorization;
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
            // The ApiKey scheme (ApiKeyAuthenticationHandler): declared once, so the UI's Authorize button can hold it, and
            // required per operation from the endpoint's own authorization metadata (ApiKeySecurityFilter).
            swagger.AddSecurityDefinition(ApiKeySecurityFilter.SchemeId, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyRing.HeaderName,
                Description = "Required for POST and DELETE when the operator configured ConvService:ApiKeys. Jobs, benchmarks and " +
                    "arrays then belong to the key that created them, and reading them needs that key too (a GET without it is a 401).",
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
/// Marks the operations whose endpoint carries the <see cref="ApiKeyPolicies.StateChange"/> policy as needing the
/// <c>X-Api-Key</c> scheme, so Swagger UI sends the key it was authorized with, and documents the 401 on every
/// operation with an ApiKey policy. It reads the endpoint metadata the authorization middleware enforces, so the
/// document cannot drift from it. Reads of owned data (<see cref="ApiKeyPolicies.OwnedRead"/>) get the 401 but no
/// security requirement: the published contract (SwaggerSecurityTests) lists the key on state changes only.
/// </summary>
internal sealed class ApiKeySecurityFilter : IOperationFilter
{
    /// <summary>The scheme's name in components/securitySchemes: the authentication scheme's.</summary>
    public const string SchemeId = ApiKeyAuthenticationHandler.SchemeName;

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var policies = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
        if (!policies.Any(p => p is ApiKeyPolicies.StateChange or ApiKeyPolicies.OwnedRead)) return;
        // Reads of owned data need the key too when keys are configured: with the requirement on them, Swagger UI's
        // "Try it out" sends the key it was given under Authorize on GETs as well, not only on writes.
        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", new OpenApiResponse
        {
            Description = $"An API key is configured and the {ApiKeyRing.HeaderName} header is missing or invalid (problem+json).",
        });
    }
}
