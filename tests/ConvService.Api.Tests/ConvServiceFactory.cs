using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace ConvService.Api.Tests;

/// <summary>Hosts the service in memory with configuration overrides for tests.</summary>
public sealed class ConvServiceFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _overrides = new();

    /// <summary>Sets a configuration value (before the first client is created).</summary>
    public ConvServiceFactory With(string key, string? value)
    {
        _overrides[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_overrides));
        // Settings are also visible to Program's builder.Configuration before Build, where registration reads
        // ConvService:Storage and ConvService:NodeName; app configuration callbacks only apply later.
        foreach (var (key, value) in _overrides) builder.UseSetting(key, value);
    }
}
