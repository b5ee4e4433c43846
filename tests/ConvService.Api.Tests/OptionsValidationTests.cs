using Microsoft.Extensions.Options;

namespace ConvService.Api.Tests;

/// <summary>The generated options validator checks every nested section at start-up and names the key to fix.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("ConvService:Limits:MaxPageSize", "0")]
    [InlineData("ConvService:Limits:MaxPinnedFraction", "2")]
    [InlineData("ConvService:Gpu:CacheBytes", "-1")]
    [InlineData("ConvService:Gpu:Device", "tpu")]
    [InlineData("ConvService:Workers", "5000")]
    public void OutOfRangeSetting_FailsStartup_NamingTheConfigurationKey(string key, string value)
    {
        using var factory = new ConvServiceFactory().With(key, value);
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void TwoBadSettings_AreBothReported()
    {
        using var factory = new ConvServiceFactory().With("ConvService:Limits:MaxPageSize", "0").With("ConvService:RateLimits:Burst", "0");
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("ConvService:Limits:MaxPageSize must be between 1 and 10000.", error.Message);
        Assert.Contains("ConvService:RateLimits:Burst", error.Message);
    }
}
