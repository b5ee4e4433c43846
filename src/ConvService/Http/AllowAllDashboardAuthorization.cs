namespace ConvService.Http;

/// <summary>Opens the dashboard to every client; used only when ConvService:DashboardAllowRemote is true.</summary>
public sealed class AllowAllDashboardAuthorization : Hangfire.Dashboard.IDashboardAuthorizationFilter
{
    /// <inheritdoc />
    public bool Authorize(Hangfire.Dashboard.DashboardContext context) => true;
}
