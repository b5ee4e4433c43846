using ConvService.Observability;
using ConvService.Options;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace ConvService.Http;

/// <summary>
/// Refuses changes through the Hangfire dashboard (any method but the safe ones under <c>/hangfire</c>) with 403
/// problem+json: always while it is read-only (<c>ConvService:DashboardReadOnly</c>, the default, or a remote
/// dashboard), and without a valid antiforgery token when it is writable. Without this a page on any site could make a
/// local browser post a form to <c>http://localhost/hangfire/jobs/enqueued/delete</c>: the dashboard trusts local
/// requests, and a form POST needs no CORS preflight. The live statistics the pages poll (<c>POST /hangfire/stats</c>)
/// only read, and stay allowed.
/// </summary>
public sealed class DashboardWriteGuard(RequestDelegate next, IOptions<ConvServiceOptions> options, IAntiforgery antiforgery, RefusalMetrics counters)
{
    private static readonly PathString StatsPath = DashboardKeyGate.Path.Add("/stats");

    /// <summary>True when the dashboard accepts no changes.</summary>
    public static bool IsReadOnly(ConvServiceOptions options) => options.DashboardReadOnly || options.DashboardAllowRemote;

    /// <summary>Lets reads through; refuses writes that the configuration or the antiforgery token does not allow.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethodSafety.IsSafe(request.Method) || request.Path.Equals(StatsPath, StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }
        if (IsReadOnly(options.Value))
        {
            counters.Refused(StatusCodes.Status403Forbidden);
            await ProblemResponses.WriteAsync(context, StatusCodes.Status403Forbidden, "Dashboard is read-only",
                "The Hangfire dashboard accepts no changes (ConvService:DashboardReadOnly is true, or the dashboard is remote). " +
                "Cancel or delete jobs with DELETE /convolutions/{id}, or set ConvService:DashboardReadOnly to false for a local writable dashboard.");
            return;
        }
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            counters.Refused(StatusCodes.Status403Forbidden);
            await ProblemResponses.WriteAsync(context, StatusCodes.Status403Forbidden, "Antiforgery token missing",
                "Changes through the dashboard need the antiforgery token its own pages send: use the dashboard's buttons, not a form from another page.");
            return;
        }
        await next(context);
    }
}
