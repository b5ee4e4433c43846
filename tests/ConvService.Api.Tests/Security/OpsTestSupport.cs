using System.Globalization;
using System.Text.RegularExpressions;

namespace ConvService.Api.Tests.Security;

/// <summary>Keys, host fixtures and checks shared by the security and operations tests.</summary>
internal static partial class Ops
{
    public const string KeyA = "test-key-A-0123456789abcdef";
    public const string KeyB = "test-key-B-fedcba9876543210"; // same length as A on purpose: length must not decide
    public const string SmallJob = """{"image": {"data": [[1, 2], [3, 4]]}, "kernel": {"data": [[1, 0], [0, 1]]}}""";
    public const string SmallArray = """{"data": [[1, 2], [3, 4]]}""";

    /// <summary>Things no response may ever contain: stack frames, source paths, connection-string parts.</summary>
    public static readonly string[] Leaks = ["   at ", "/work/", ".cs:line", "Host=", "Password", "hunter2", "StackTrace", "Npgsql"];

    public static ConvServiceFactory WithKeys(this ConvServiceFactory factory) =>
        factory.With("ConvService:ApiKeys:0", KeyA).With("ConvService:ApiKeys:1", KeyB);

    public static void AssertNoLeak(string body, string what)
    {
        foreach (var leak in Leaks)
            Assert.False(body.Contains(leak, StringComparison.Ordinal), $"{what} leaks '{leak}': {body}");
    }

    public static HttpRequestMessage Request(HttpMethod method, string url, string? key = null, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        if (key is not null) request.Headers.TryAddWithoutValidation("X-Api-Key", key);
        return request;
    }

    /// <summary>The value of one exposed series (exact label set as printed), or null when it is not exposed.</summary>
    public static double? Sample(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>How much one series grew between two scrapes (a series not yet exposed counts as 0).</summary>
    public static double Delta(string before, string after, string series) => (Sample(after, series) ?? 0) - (Sample(before, series) ?? 0);

    /// <summary>The sum over every series of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static double SumOf(string exposition, string name, params string[] labels)
    {
        double sum = 0;
        foreach (Match m in SeriesLine().Matches(exposition))
        {
            if (m.Groups["name"].Value != name) continue;
            string set = m.Groups["labels"].Value;
            if (labels.All(l => set.Contains(l, StringComparison.Ordinal)))
                sum += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return sum;
    }

    public static async Task<string> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    // Label values are quoted and may hold braces (route patterns like /convolutions/{id}).
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (?<value>\S+)$""", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}

/// <summary>A host with two API keys configured, shared by one test class.</summary>
public sealed class KeyedHost : IDisposable
{
    public ConvServiceFactory Factory { get; } = new ConvServiceFactory().WithKeys();
    public void Dispose() => Factory.Dispose();
}
