using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ConvService.Browser.Tests;

/// <summary>
/// One running service and one headless Debian Chromium driven through Debian's chromedriver, shared by the tests of
/// a class. Nothing is downloaded: the driver's path is given, so Selenium Manager never runs. Where either program
/// is missing, <see cref="SkipReason"/> says so and nothing is started.
/// </summary>
public sealed class BrowserFixture : IDisposable
{
    /// <summary>Chromium's path (CONVSERVICE_CHROMIUM overrides it).</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("CONVSERVICE_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>chromedriver's path (CONVSERVICE_CHROMEDRIVER overrides it).</summary>
    public static readonly string ChromeDriverPath = Environment.GetEnvironmentVariable("CONVSERVICE_CHROMEDRIVER") ?? "/usr/bin/chromedriver";

    private readonly string? _profile;

    public BrowserFixture()
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(ChromeDriverPath))
        {
            SkipReason = $"No browser: the browser tests need Debian's chromium and chromium-driver ({ChromiumPath}, {ChromeDriverPath}); " +
                "`apt-get install chromium chromium-driver` (as .ci/run does) or set CONVSERVICE_CHROMIUM and CONVSERVICE_CHROMEDRIVER.";
            return;
        }

        if (Environment.GetEnvironmentVariable("CONVSERVICE_UI_BASE_URL") is { Length: > 0 } external)
        {
            // A service already running (e.g. `dotnet run -c Release`, for the screenshots in docs/): loopback only.
            BaseAddress = new Uri(external);
            if (!BaseAddress.IsLoopback) throw new InvalidOperationException($"CONVSERVICE_UI_BASE_URL must be a loopback address, not {external}.");
            ApiKey = Environment.GetEnvironmentVariable("CONVSERVICE_UI_API_KEY") is { Length: > 0 } key ? key : null;
        }
        else
        {
            Service = new KestrelConvServiceFactory();
            Service.Start();
            BaseAddress = Service.BaseAddress;
            ApiKey = KestrelConvServiceFactory.ApiKey;
        }

        Driver = StartBrowser(javaScript: true, out _profile);
    }

    /// <summary>
    /// Starts headless Chromium with a fresh profile (its folder in <paramref name="profile"/>, for the caller to delete),
    /// with or without JavaScript.
    /// </summary>
    public static ChromeDriver StartBrowser(bool javaScript, out string profile)
    {
        profile = Directory.CreateTempSubdirectory("convservice-chromium-").FullName;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // Headless, and none of Chromium's own traffic: this network refuses it, and the tests talk to 127.0.0.1 only.
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1440,900", $"--user-data-dir={profile}");
        if (!javaScript) options.AddUserProfilePreference("profile.managed_default_content_settings.javascript", 2);
        var driverService = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriverPath)!, Path.GetFileName(ChromeDriverPath));
        driverService.HideCommandPromptWindow = true;
        driverService.SuppressInitialDiagnosticInformation = true;
        var driver = new ChromeDriver(driverService, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(30);
        return driver;
    }

    /// <summary>Deletes a profile folder <see cref="StartBrowser"/> made.</summary>
    public static void DeleteProfile(string? profile)
    {
        if (profile is null) return;
        try { Directory.Delete(profile, recursive: true); } catch (IOException) { /* chromium may still hold a file; it is in /tmp */ }
    }

    /// <summary>Why the tests skip, or null.</summary>
    public string? SkipReason { get; }

    /// <summary>The service this fixture started (null when skipping or when driving CONVSERVICE_UI_BASE_URL).</summary>
    public KestrelConvServiceFactory? Service { get; }

    /// <summary>Where the service listens.</summary>
    public Uri BaseAddress { get; } = new("http://127.0.0.1");

    /// <summary>The key the service requires for POST and DELETE, or null when it has none.</summary>
    public string? ApiKey { get; }

    /// <summary>The browser (null when skipping).</summary>
    public ChromeDriver? Driver { get; }

    /// <summary>Where screenshots go: CONVSERVICE_UI_SCREENSHOTS, or nowhere.</summary>
    public static string? ScreenshotFolder => Environment.GetEnvironmentVariable("CONVSERVICE_UI_SCREENSHOTS") is { Length: > 0 } folder ? folder : null;

    /// <summary>Saves the whole page (not only the viewport) as NAME.png when screenshots were asked for.</summary>
    public void Screenshot(string name)
    {
        if (ScreenshotFolder is not { } folder || Driver is null) return;
        Directory.CreateDirectory(folder);
        var shot = Driver.ExecuteCdpCommand("Page.captureScreenshot",
            new Dictionary<string, object?> { ["format"] = "png", ["captureBeyondViewport"] = true }) as Dictionary<string, object?>;
        string data = shot?["data"] as string ?? throw new InvalidOperationException("Page.captureScreenshot answered no data.");
        File.WriteAllBytes(Path.Combine(folder, name + ".png"), Convert.FromBase64String(data));
    }

    public void Dispose()
    {
        Driver?.Quit();
        Driver?.Dispose();
        Service?.Dispose();
        DeleteProfile(_profile);
    }
}
