namespace ConvService.Http;

/// <summary>Which HTTP methods change nothing: the API-key fallback policy and the dashboard's write guard both ask.</summary>
public static class HttpMethodSafety
{
    /// <summary>True for the methods that never change state (RFC 9110 safe methods).</summary>
    public static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);
}
