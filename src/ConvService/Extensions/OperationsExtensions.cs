namespace ConvService.Extensions;

/// <summary>
/// The operations features (metrics, API keys, rate limits) behind one call each in <see cref="ConvServiceExtensions"/>,
/// so the host's main wiring stays a list of features rather than their details.
/// </summary>
public static class OperationsExtensions
{
    /// <summary>Registers metrics and security services.</summary>
    public static WebApplicationBuilder AddConvServiceOperations(this WebApplicationBuilder builder) =>
        builder.AddConvServiceMetrics().AddConvServiceSecurity();
}
