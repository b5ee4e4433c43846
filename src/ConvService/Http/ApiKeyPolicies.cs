using Microsoft.AspNetCore.Authorization;

namespace ConvService.Http;

/// <summary>
/// Where an API key is required, as authorization policies on the endpoints (what Swagger reads too) instead of a
/// path list in middleware. With <c>ConvService:ApiKeys</c> empty every policy succeeds: the lab mode stays open.
/// </summary>
/// <remarks>
/// Three policies, one requirement (<see cref="ApiKeyRequirement"/>): <see cref="StateChange"/> on the endpoints that
/// change owned data (POST, DELETE), <see cref="OwnedRead"/> on the reads of owned data (a job, benchmark or array
/// belongs to the key that created it, so an anonymous list would reveal them), and the fallback policy, for every
/// request that reaches no endpoint with a policy (unmapped routes and methods, the probes, the UI's files): a key for
/// any method but the safe ones, so an unauthenticated caller learns nothing from a 404 or 405 on a write. The two
/// endpoint policies behave alike; they are two because the OpenAPI document marks only state changes as needing the
/// key (see <c>ApiKeySecurityFilter</c>).
/// </remarks>
public static class ApiKeyPolicies
{
    /// <summary>Changing owned data (POST, PUT, PATCH, DELETE under /convolutions, /benchmarks, /arrays).</summary>
    public const string StateChange = "ApiKey.StateChange";

    /// <summary>Reading owned data (GET under /convolutions, /benchmarks, /arrays).</summary>
    public const string OwnedRead = "ApiKey.OwnedRead";

    /// <summary>Registers the policies, the fallback policy and the requirement's handler.</summary>
    public static IServiceCollection AddApiKeyAuthorization(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, ApiKeyRequirementHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(StateChange, Policy(new ApiKeyRequirement(StateChangesOnly: false)))
            .AddPolicy(OwnedRead, Policy(new ApiKeyRequirement(StateChangesOnly: false)))
            .SetFallbackPolicy(Policy(new ApiKeyRequirement(StateChangesOnly: true)));
        return services;
    }

    /// <summary>
    /// Puts <see cref="StateChange"/> on the group's endpoints that accept an unsafe method and <see cref="OwnedRead"/>
    /// on the others. A finally-convention: it runs once each endpoint's own conventions have set its methods.
    /// </summary>
    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group)
    {
        ((IEndpointConventionBuilder)group).Finally(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().LastOrDefault()?.HttpMethods ?? [];
            bool changes = methods.Count == 0 || methods.Any(m => !HttpMethodSafety.IsSafe(m));
            endpoint.Metadata.Add(new AuthorizeAttribute(changes ? StateChange : OwnedRead));
        });
        return group;
    }

    private static AuthorizationPolicy Policy(ApiKeyRequirement requirement) =>
        new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName).AddRequirements(requirement).Build();
}

/// <summary>
/// A configured API key, when keys are configured. <paramref name="StateChangesOnly"/>: only for unsafe methods, and
/// never under <c>/hangfire</c>, whose own gates (<see cref="DashboardKeyGate"/>, <see cref="DashboardWriteGuard"/>)
/// decide there — the fallback policy's form.
/// </summary>
public sealed record ApiKeyRequirement(bool StateChangesOnly) : IAuthorizationRequirement;

/// <summary>Decides <see cref="ApiKeyRequirement"/>.</summary>
internal sealed class ApiKeyRequirementHandler(ApiKeyRing keys) : AuthorizationHandler<ApiKeyRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyRequirement requirement)
    {
        if (!keys.Enabled || ApiKeyClaims.KeyIndexOf(context.User) >= 0 || (requirement.StateChangesOnly && IsExempt(context.Resource)))
            context.Succeed(requirement);
        // Otherwise unmet: the authorization middleware challenges the ApiKey scheme, which answers 401.
        return Task.CompletedTask;
    }

    // The authorization middleware passes the HttpContext as the resource (endpoint or not).
    private static bool IsExempt(object? resource) =>
        resource is HttpContext http && (HttpMethodSafety.IsSafe(http.Request.Method) || http.Request.Path.StartsWithSegments(DashboardKeyGate.Path));
}
