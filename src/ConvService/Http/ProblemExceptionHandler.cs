using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Model;
using ConvService.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace ConvService.Http;

/// <summary>
/// Turns every refusal into <c>application/problem+json</c> with a detail that says what to fix; anything
/// unexpected becomes a 500 that reveals no internals (the exception goes to the log only).
/// </summary>
public sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            return true; // the client went away; nobody is listening for a problem

        var (status, title, detail, retryAfter) = Map(exception);
        if (status >= 500 && retryAfter is null)
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
        await ProblemResponses.WriteAsync(context, status, title, detail, retryAfter, exception);
        return true;
    }

    /// <summary>The status, title, detail and retry hint for an exception.</summary>
    public static (int Status, string Title, string Detail, TimeSpan? RetryAfter) Map(Exception exception) => exception switch
    {
        RequestRejectedException r => (r.Status, r.Title, r.Message, r.RetryAfter),
        RequestRefusedException r => (RefusalStatus.Of(r.Kind), r.Title, r.Message, r.RetryAfter),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (413, "Request body too large",
            "The request body exceeds ConvService:Limits:MaxRequestBytes. Send a smaller array, upload it as .npy (8 bytes a value), or use a generated input.", null),
        BadHttpRequestException b => (b.StatusCode, "Bad request", BindingMessage(b.Message), null),
        JsonException j => (400, "Malformed JSON",
            $"The request body is not valid for this endpoint: {JsonMessage(j)} See the examples in /swagger.", null),
        ArrayTooLargeException a => (413, "Array too large", a.Message, null),
        ArrayUnsupportedException a => (415, "Unsupported array content", a.Message, null),
        ArrayFormatException a => (400, "Malformed array", a.Message, null),
        ConvolutionRefusedException c => (422, "Convolution refused", c.Message, null),
        ArrayStoreFullException { TooLargeEver: true } s => (413, "Array too large for the store", s.Message, null),
        ArrayStoreFullException s => (503, "Array store full", s.Message, TimeSpan.FromSeconds(5)),
        _ when Storage.Postgres.PostgresErrors.IsUnavailable(exception) => (503, "Storage unavailable",
            "The database behind this service did not answer; nothing was changed by this request unless it said otherwise. Retry shortly.", TimeSpan.FromSeconds(5)),
        _ => (500, "Internal error", "The service hit an unexpected error; it has been logged. Please report it with the time of the request.", null),
    };

    /// <summary>
    /// Rewrites the framework's binding failure (<c>Failed to bind parameter "Nullable&lt;int&gt; Limit" from "abc".</c>),
    /// which names a .NET type and a C# property, into the query parameter and what it takes; other messages pass unchanged.
    /// </summary>
    private static string BindingMessage(string message)
    {
        var match = BindFailure().Match(message);
        if (!match.Success) return message;
        string name = match.Groups["name"].Value;
        name = char.ToLowerInvariant(name[0]) + name[1..];
        string value = match.Groups["value"].Value;
        value = Echo.Clip(value, 40);
        string type = match.Groups["type"].Value;
        string expected = type is "int" or "Nullable<int>" or "Int32" or "Nullable<Int32>" ? "a whole number, given once" : "a single valid value";
        return $"The query parameter '{name}' is '{value}', which is not {expected}. See /swagger for what '{name}' takes.";
    }

    [System.Text.RegularExpressions.GeneratedRegex("""^Failed to bind parameter "(?<type>\S+) (?<name>\w+)" from "(?<value>.*)"\.$""", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    private static string ExpectedAt(string path)
    {
        if (path == "$") return "a JSON object {...}, not an array, string, number or boolean";
        if (DataCell().IsMatch(path)) return "a number; data must be a 2-D array of numbers [[...], ...]";
        if (DataRow().IsMatch(path)) return "a row of numbers; data must be a 2-D array [[...], ...]";
        if (path.EndsWith(".data", StringComparison.Ordinal)) return "a 2-D array of numbers [[...], ...]";
        string last = path[(path.LastIndexOf('.') + 1)..];
        return last switch
        {
            "fillValue" => "a number",
            "threads" or "seed" or "iterations" or "repetitions" or "warmup" or "count" => "an integer",
            "mode" or "boundary" or "method" or "fill" or "arrayId" or "nanTreatment" => "a string",
            "normalizeKernel" or "preserveNan" => "true or false",
            "strategies" => "an array of strategy names, e.g. [\"serial\", \"parallel\"]",
            _ when StrategyItem().IsMatch(path) => "a strategy name: serial, parallel, parallel-rows or hangfire",
            "image" or "kernel" => "an object with one of data, arrayId or generate",
            "generate" => "an object like {\"shape\": [rows, cols], \"fill\": \"normal\", \"seed\": 0}",
            _ when last.StartsWith("shape", StringComparison.Ordinal) => "[rows, cols] as two integers",
            _ => "a value of another type",
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\.data\[\d+\]\[\d+\]$")]
    private static partial System.Text.RegularExpressions.Regex DataCell();

    [System.Text.RegularExpressions.GeneratedRegex(@"\.strategies\[\d+\]$")]
    private static partial System.Text.RegularExpressions.Regex StrategyItem();

    [System.Text.RegularExpressions.GeneratedRegex(@"\.data\[\d+\]$")]
    private static partial System.Text.RegularExpressions.Regex DataRow();

    private static string ParentPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "$";
        int dot = path.LastIndexOf('.');
        return dot > 0 ? path[..dot] : "$";
    }

    private static string JsonMessage(JsonException e)
    {
        // System.Text.Json names the .NET type it could not fill; users need the JSON path and what was expected.
        string message = e.Message;
        const string unmapped = "' could not be mapped to any .NET member";
        int unmappedAt = message.IndexOf(unmapped, StringComparison.Ordinal);
        if (unmappedAt > 0)
        {
            int nameStart = message.IndexOf('\'') + 1;
            string name = message[nameStart..unmappedAt];
            return $"unknown property '{name}' at {e.Path ?? "$"} (property names are camelCase, e.g. image, kernel, mode, boundary, fillValue, stride, method).";
        }
        if (message.Contains(" could not be converted to ", StringComparison.Ordinal) || message.Contains("token type", StringComparison.Ordinal))
            return $"the value at {e.Path ?? "$"} has the wrong type (expected {ExpectedAt(e.Path ?? "$")}).";
        const string duplicate = "Duplicate property '";
        if (message.StartsWith(duplicate, StringComparison.Ordinal) && message.IndexOf('\'', duplicate.Length) is var end and > 0)
        {
            // The serializer names the .NET type; users need the property, the place and the fix.
            string name = message[duplicate.Length..end];
            return $"the property '{name}' appears more than once in the object at {ParentPath(e.Path)} (property names are matched case-insensitively): send it once.";
        }
        // Our converters throw without a path (they cannot know it); the serializer records it on the exception.
        if (e.Path is { } path && !message.Contains("Path:", StringComparison.Ordinal))
            return $"{message.TrimEnd('.')} (at {path}).";
        return message;
    }
}
