using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace ConvService.Browser.Tests;

/// <summary>
/// The web UI in a real browser against the real service: the landing page, a small benchmark run from the form (its
/// table checked against GET /benchmarks/{id}), and a job convolving an uploaded .npy. The host has an API key
/// configured; the pages send the key typed into their key field. CONVSERVICE_UI_BASE_URL points the same tests at a
/// service already running instead (with CONVSERVICE_UI_API_KEY if it has keys), and CONVSERVICE_UI_SCREENSHOTS=DIR saves
/// a full-page screenshot of each page there.
/// </summary>
public sealed class WebUiTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan BenchmarkTimeout = TimeSpan.FromSeconds(150);

    private ChromeDriver Driver => fixture.Driver!;
    private Uri Base => fixture.BaseAddress;

    [SkippableFact]
    public void LandingPage_Opened_SaysWhatItIsAndLinksSwaggerAndDashboard()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        Open("/");

        Assert.Equal("ConvService", Driver.FindElement(By.CssSelector("main h1")).Text);
        Assert.Contains("scipy.signal.convolve2d", Driver.FindElement(By.CssSelector("p.lead")).Text);
        Until(() => Driver.FindElement(By.Id("health")).Text.StartsWith("Ready", StringComparison.Ordinal), PageTimeout, "the health line to say Ready");
        // Read in one script: the health line replaces its links while it refreshes, which would make elements stale.
        var links = ((IEnumerable<object>)Driver.ExecuteScript("return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'));")!)
            .Cast<string>().ToList();
        Assert.Contains("/swagger", links);
        Assert.Contains("/hangfire", links);
        Assert.Contains("/benchmarks.html", links);
        Assert.Contains("/jobs.html", links);
        fixture.Screenshot("ui-home");
    }

    [SkippableFact]
    public async Task BenchmarkPage_SmallRunFromForm_ShowsProgressChartAndTableMatchingReport()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        Open("/benchmarks.html");
        UseKey(fixture.ApiKey ?? "");

        // The seed's experiment is the form's default; shortened here to run in seconds (CONVSERVICE_UI_BENCHMARK=
        // "SIZE,ITERATIONS" runs another size, e.g. "3000,10" for the screenshot in docs/).
        Assert.Equal("3000", Field("image-rows").GetDomProperty("value"));
        Assert.Equal("100", Field("iterations").GetDomProperty("value"));
        Assert.Equal("5", Field("stride").GetDomProperty("value"));
        var (size, iterations) = Environment.GetEnvironmentVariable("CONVSERVICE_UI_BENCHMARK")?.Split(',') is [var s, var i] ? (s, i) : ("300", "2");
        Type("image-rows", size);
        Type("image-cols", size);
        Type("iterations", iterations);
        Type("repetitions", "2");
        Driver.FindElement(By.Id("run-benchmark")).Click();

        Until(() => Driver.FindElement(By.Id("progress-row")).Displayed, PageTimeout, "the progress bar to appear");
        var chart = Until(() => Driver.FindElements(By.CssSelector("#report img.speedup-chart")).FirstOrDefault(
            img => (bool)Driver.ExecuteScript("return arguments[0].complete && arguments[0].naturalWidth > 0;", img)!), BenchmarkTimeout, "the speedup chart");
        Assert.NotNull(chart);
        var progress = Driver.FindElement(By.Id("benchmark-progress"));
        Assert.Equal(progress.GetDomProperty("max"), progress.GetDomProperty("value"));
        Assert.Equal("succeeded", progress.GetDomAttribute("data-status"));

        string id = Driver.FindElement(By.CssSelector("#report article.benchmark")).GetDomAttribute("data-benchmark-id")!;
        using var http = new HttpClient { BaseAddress = Base };
        if (fixture.ApiKey is { } owner) http.DefaultRequestHeaders.Add("X-Api-Key", owner); // the benchmark belongs to the key
        using var report = JsonDocument.Parse(await http.GetStringAsync($"/benchmarks/{id}"));
        var root = report.RootElement;
        Assert.Equal("succeeded", root.GetProperty("status").GetString());
        Assert.Equal(int.Parse(size, CultureInfo.InvariantCulture), root.GetProperty("request").GetProperty("image").GetProperty("shape")[0].GetInt32());

        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["serial", "parallel", "hangfire"], results.Select(r => r.GetProperty("strategy").GetString()!));
        foreach (var result in results)
        {
            var row = Driver.FindElement(By.CssSelector($"#report tr[data-strategy='{result.GetProperty("strategy").GetString()}']"));
            string Cell(string field) => row.FindElement(By.CssSelector($"td[data-field='{field}']")).Text;
            AssertShows(result.GetProperty("wallMs").GetProperty("median").GetDouble(), Cell("wallMedian"));
            var spread = Cell("wallSpread").Split('–');
            AssertShows(result.GetProperty("wallMs").GetProperty("min").GetDouble(), spread[0]);
            AssertShows(result.GetProperty("wallMs").GetProperty("max").GetDouble(), spread[1]);
            AssertShows(result.GetProperty("perConvolutionMs").GetProperty("median").GetDouble(), Cell("perConvolutionMedian"));
            AssertShows(result.GetProperty("speedup").GetDouble(), Cell("speedup").TrimEnd('×'));
            AssertShows(result.GetProperty("efficiency").GetDouble(), Cell("efficiency"));
            AssertShows(result.GetProperty("overheadPerJobMs").GetDouble(), Cell("overheadPerJob"));
            Assert.Equal(result.GetProperty("workers").GetInt32().ToString(CultureInfo.InvariantCulture), Cell("workers"));
        }
        string environment = Driver.FindElement(By.CssSelector("#report .environment")).Text;
        Assert.Contains(root.GetProperty("environment").GetProperty("cpu").GetString()!, environment);
        Assert.Contains(root.GetProperty("environment").GetProperty("simd").GetString()!, environment);

        // The run is listed among the past benchmarks.
        Until(() => Driver.FindElements(By.CssSelector($"#past-benchmarks tr[data-benchmark-id='{id}']")).Count == 1, PageTimeout, "the run in the past list");
        Driver.ExecuteScript("window.scrollTo(0, 0);");
        fixture.Screenshot("ui-benchmark");
    }

    [SkippableFact]
    public async Task BenchmarkPage_TwoPastTicked_ShowsThemSideBySide()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var http = new HttpClient { BaseAddress = Base };
        if (fixture.ApiKey is { } key) http.DefaultRequestHeaders.Add("X-Api-Key", key);
        var ids = new List<string>();
        foreach (int iterations in new[] { 1, 2 })
        {
            var response = await http.PostAsync("/benchmarks?wait=60", new StringContent(
                $$"""{"image": {"shape": [200, 200]}, "iterations": {{iterations}}, "repetitions": 1, "strategies": ["serial", "parallel"]}""",
                Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            var report = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("succeeded", report.GetProperty("status").GetString());
            ids.Add(report.GetProperty("id").GetString()!);
        }

        Open("/benchmarks.html");
        UseKey(fixture.ApiKey ?? ""); // with keys on, the list shows the key's own benchmarks only
        Open("/benchmarks.html"); // the list loaded before the key was set: load it again with the key (kept for the tab)
        var compare = Driver.FindElement(By.Id("compare"));
        var boxes = ids.Select(id => Until(() => Driver.FindElements(By.CssSelector($"#past-benchmarks input.pick[value='{id}']")).FirstOrDefault(),
            PageTimeout, $"benchmark {id} in the list")!).ToList();
        Assert.False(compare.Enabled, "Compare is enabled before two are ticked.");
        foreach (var box in boxes) box.Click();
        Until(() => compare.Enabled, PageTimeout, "Compare to be enabled");
        compare.Click();
        var shown = Until(() => Driver.FindElements(By.CssSelector("#comparison article.benchmark")) is { Count: 2 } articles ? articles : null, PageTimeout, "two reports side by side")!;
        Assert.Equal(ids.OrderBy(id => id), shown.Select(a => a.GetDomAttribute("data-benchmark-id")!).OrderBy(id => id));
        Assert.All(shown, article => Assert.Equal(2, article.FindElements(By.CssSelector("tr[data-strategy]")).Count));
    }

    [SkippableFact]
    public async Task BenchmarkPage_ReportWithWarningsAndUnknownFields_ShowsWarningsAndTable()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var http = new HttpClient { BaseAddress = Base };
        if (fixture.ApiKey is { } key) http.DefaultRequestHeaders.Add("X-Api-Key", key);
        var response = await http.PostAsync("/benchmarks?wait=60", new StringContent(
            """{"image": {"shape": [200, 200]}, "iterations": 1, "repetitions": 1, "strategies": ["serial", "parallel"]}""", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        string id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // Reports are growing a "warnings" list and a per-job breakdown: the page must show the one and ignore the other.
        // A browser of its own, whose fetch adds both (and an unknown environment field) to GET /benchmarks/{id}.
        using var browser = BrowserFixture.StartBrowser(javaScript: true, out string profile);
        try
        {
            browser.ExecuteCdpCommand("Page.addScriptToEvaluateOnNewDocument", new Dictionary<string, object?>
            {
                ["source"] = """
                    const realFetch = window.fetch;
                    window.fetch = async (...args) => {
                      const response = await realFetch(...args);
                      if (!/^\/benchmarks\/[0-9a-f]{32}$/.test(String(args[0]))) return response;
                      const report = await response.json();
                      report.warnings = ["Another process used 80 % of a core during the run.", { code: "turbo", message: "CPU frequency scaling is on." }];
                      report.jobs = [{ node: "vm", strategy: "hangfire", computeMs: 1.5 }];
                      report.environment.somethingNew = { nested: true };
                      return new Response(JSON.stringify(report), { status: response.status, headers: response.headers });
                    };
                    """,
            });
            if (fixture.ApiKey is { } tabKey)
                // This browser's tab holds the key as the key form would leave it: the benchmark belongs to that key.
                browser.ExecuteCdpCommand("Page.addScriptToEvaluateOnNewDocument", new Dictionary<string, object?>
                {
                    ["source"] = $"sessionStorage.setItem({JsonSerializer.Serialize(KeyStorageName)}, {JsonSerializer.Serialize(tabKey)});",
                });
            browser.Navigate().GoToUrl(new Uri(Base, $"/benchmarks.html#{id}"));
            var wait = new WebDriverWait(browser, PageTimeout) { Message = "Waited for the report's warnings." };
            wait.IgnoreExceptionTypes(typeof(NoSuchElementException));
            var warnings = wait.Until(d => d.FindElements(By.CssSelector("#report .warnings li")) is { Count: > 0 } items ? items : null)!;
            Assert.Equal(["Another process used 80 % of a core during the run.", "CPU frequency scaling is on."], warnings.Select(li => li.Text));
            Assert.Equal(2, browser.FindElements(By.CssSelector("#report tr[data-strategy]")).Count);
        }
        finally
        {
            browser.Quit();
            BrowserFixture.DeleteProfile(profile);
        }
    }

    [SkippableFact]
    public async Task JobsPage_UploadedNpyWithoutThenWithKey_RefusedThenConvolvedWithPreview()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        string npy = WriteNpy(96, 128);
        try
        {
            Open("/jobs.html");
            UseKey("");
            Driver.FindElement(By.Id("image-file")).SendKeys(npy);
            var kernel = Driver.FindElement(By.Id("kernel"));
            kernel.Clear();
            kernel.SendKeys("[[1, 2, 1], [2, 4, 2], [1, 2, 1]]");
            Driver.FindElement(By.XPath("//select[@id='boundary']/option[text()='symm']")).Click();
            var status = Driver.FindElement(By.Id("job-status"));
            if (fixture.ApiKey is { } key)
            {
                Driver.FindElement(By.Id("run-job")).Click();
                Until(() => status.Text.Contains("API key required", StringComparison.Ordinal), PageTimeout, "the 401 to be shown");
                UseKey(key);
            }
            Driver.FindElement(By.Id("run-job")).Click();
            string id = Until(() => status.GetDomAttribute("data-job-id"), PageTimeout, "the job to be submitted")!;
            Assert.Contains("succeeded", status.Text);

            var row = Until(() => Driver.FindElements(By.CssSelector($"#jobs tr[data-job-id='{id}']")).FirstOrDefault(), PageTimeout, "the job in the list")!;
            Until(() => row.FindElements(By.CssSelector("img.preview")).Any(
                img => (bool)Driver.ExecuteScript("return arguments[0].complete && arguments[0].naturalWidth > 0 && arguments[0].src.startsWith('blob:');", img)!),
                PageTimeout, "the PNG preview");
            Assert.Contains("96×128 → 96×128", row.Text);
            Assert.Equal(2, row.FindElements(By.CssSelector("a[data-download]")).Count);

            using var http = new HttpClient { BaseAddress = Base };
            if (fixture.ApiKey is { } owner) http.DefaultRequestHeaders.Add("X-Api-Key", owner); // the job belongs to the key
            var job = await http.GetFromJsonAsync<JsonElement>($"/convolutions/{id}");
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            Assert.Equal("same", job.GetProperty("request").GetProperty("mode").GetString());
            Assert.Equal("symm", job.GetProperty("request").GetProperty("boundary").GetString());
            Assert.Equal([96, 128], job.GetProperty("result").GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()));
            fixture.Screenshot("ui-jobs");
        }
        finally
        {
            File.Delete(npy);
        }
    }

    [SkippableFact]
    public void Pages_WithoutJavaScript_ShowLinksToTheJsonEndpointsAndSwagger()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var plain = BrowserFixture.StartBrowser(javaScript: false, out string profile);
        try
        {
            foreach (var (page, json) in new[] { ("/benchmarks.html", "/benchmarks"), ("/jobs.html", "/convolutions") })
            {
                plain.Navigate().GoToUrl(new Uri(Base, page));
                // With JavaScript on, <noscript> holds text; off, its links are elements on the page.
                var shown = plain.FindElements(By.CssSelector("noscript a")).Where(a => a.Displayed).Select(a => a.GetDomAttribute("href")).ToList();
                Assert.Contains(json, shown);
                Assert.Contains("/swagger", shown);
            }
        }
        finally
        {
            plain.Quit();
            BrowserFixture.DeleteProfile(profile);
        }
    }

    private void Open(string path)
    {
        Driver.Navigate().GoToUrl(new Uri(Base, path));
        Until(() => (string)Driver.ExecuteScript("return document.readyState;")! == "complete", PageTimeout, $"{path} to load");
    }

    /// <summary>Where the pages keep the tab's API key (wwwroot/js/api.js, KEY_STORAGE).</summary>
    private const string KeyStorageName = "convservice.apiKey";

    /// <summary>Types a key into the header's key form (or forgets the key for "").</summary>
    private void UseKey(string key)
    {
        var details = Driver.FindElement(By.CssSelector("details.key"));
        if (details.GetDomProperty("open") != "True") details.FindElement(By.TagName("summary")).Click();
        if (key.Length == 0)
        {
            details.FindElement(By.CssSelector("[data-forget]")).Click();
            Until(() => Driver.FindElement(By.Id("key-state")).Text.StartsWith("no API key", StringComparison.Ordinal), PageTimeout, "the key to be forgotten");
            return;
        }
        var input = Driver.FindElement(By.Id("api-key"));
        input.Clear();
        input.SendKeys(key);
        details.FindElement(By.CssSelector("button[type='submit']")).Click();
        Until(() => Driver.FindElement(By.Id("key-state")).Text.StartsWith("API key set", StringComparison.Ordinal), PageTimeout, "the key to be set");
    }

    private IWebElement Field(string id) => Driver.FindElement(By.Id(id));

    private void Type(string id, string value)
    {
        var field = Field(id);
        field.Clear();
        field.SendKeys(value);
    }

    private T Until<T>(Func<T> condition, TimeSpan timeout, string what)
    {
        var wait = new WebDriverWait(Driver, timeout) { PollingInterval = TimeSpan.FromMilliseconds(100), Message = $"Waited {timeout.TotalSeconds} s for {what}." };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(_ => condition());
    }

    /// <summary>The page shows <paramref name="expected"/> rounded to the decimals it prints.</summary>
    private static void AssertShows(double expected, string shown)
    {
        double value = double.Parse(shown, CultureInfo.InvariantCulture);
        int dot = shown.IndexOf('.');
        int decimals = dot < 0 ? 0 : shown.Length - dot - 1;
        double halfStep = 0.5 * Math.Pow(10, -decimals);
        Assert.True(Math.Abs(value - expected) <= halfStep + 1e-9, $"The page shows {shown}; the report says {expected}.");
    }

    /// <summary>A little-endian float64 .npy of a rows×cols wave pattern, as numpy's version 1.0 format writes it.</summary>
    private static string WriteNpy(int rows, int cols)
    {
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}";
        int unpadded = 10 + header.Length + 1;
        header += new string(' ', (64 - unpadded % 64) % 64) + "\n";
        string path = Path.Combine(Path.GetTempPath(), $"convservice-browser-{Guid.NewGuid():N}.npy");
        using var file = File.Create(path);
        using var writer = new BinaryWriter(file);
        writer.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        writer.Write((ushort)header.Length);
        writer.Write(Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) writer.Write(Math.Sin(i / 6.0) * Math.Cos(j / 9.0) + (i + j) / 100.0);
        return path;
    }
}
