using System.Text.Json;

namespace ConvService.Api.Tests.Security;

/// <summary>The README promises `dotnet run -c Release --project src/ConvService` serves http://localhost:5000; nothing may quietly override that.</summary>
public sealed class ListeningUrlTests
{
    private const string Promised = "http://localhost:5000";

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConvService.sln"))) return dir.FullName;
        throw new InvalidOperationException("ConvService.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Appsettings_AndReadme_AgreeOnTheUrl()
    {
        string root = RepoRoot();
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "appsettings.json")));
        Assert.Equal(Promised, settings.RootElement.GetProperty("Urls").GetString());
        Assert.Contains($"dotnet run -c Release --project src/ConvService   # serves {Promised}", File.ReadAllText(Path.Combine(root, "README.md")));
    }

    [Fact]
    public void LaunchSettings_IfAny_DoNotOverrideTheUrl()
    {
        // Visual Studio and `dotnet new` like to add a launchSettings.json with random ports, which `dotnet run` prefers.
        string path = Path.Combine(RepoRoot(), "src", "ConvService", "Properties", "launchSettings.json");
        if (!File.Exists(path)) return;
        using var launch = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var profile in launch.RootElement.GetProperty("profiles").EnumerateObject())
        {
            if (profile.Value.TryGetProperty("applicationUrl", out var url))
                Assert.Equal(Promised, url.GetString());
        }
    }

    [Fact]
    public void DotnetRun_StartsInTheOutputFolder_WhereAppsettingsIs()
    {
        // The linked appsettings.json is only in the output folder; `dotnet run` must start the host there or "Urls" is ignored.
        string project = File.ReadAllText(Path.Combine(RepoRoot(), "src", "ConvService", "ConvService.csproj"));
        Assert.Contains("<RunWorkingDirectory>$(TargetDir)</RunWorkingDirectory>", project);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")), "appsettings.json is copied next to the host");
    }
}
