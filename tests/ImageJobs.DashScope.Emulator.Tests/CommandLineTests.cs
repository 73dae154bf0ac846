using ImageJobs.DashScope.Emulator;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>The emulator's command line: bare boolean switches mean true wherever they stand.</summary>
public sealed class CommandLineTests
{
    private static DashScopeEmulatorOptions Parse(params string[] args) =>
        new ConfigurationBuilder().AddDashScopeEmulatorCommandLine(args).Build().GetDashScopeEmulatorOptions();

    [Fact]
    public void BareSwitchAtTheEnd_IsTrue()
    {
        Assert.True(Parse("--time-scale", "0.5", "--reject-over-concurrency").RejectOverConcurrency);
        Assert.True(Parse("--scale-rate-windows").ScaleRateWindows);
    }

    [Fact]
    public void BareSwitchInTheMiddle_IsTrue_AndTheNextSwitchKeepsItsValue()
    {
        var options = Parse("--reject-over-concurrency", "--time-scale", "0.25", "--scale-rate-windows", "--seed", "7");
        Assert.True(options.RejectOverConcurrency);
        Assert.True(options.ScaleRateWindows);
        Assert.Equal(0.25, options.TimeScale);
        Assert.Equal(7, options.Seed);
    }

    [Fact]
    public void ExplicitValues_StillWork()
    {
        Assert.False(Parse("--enable-limits", "false").EnableLimits);
        Assert.False(Parse("--enable-limits=false", "--seed", "1").EnableLimits);
        Assert.True(Parse("--reject-over-concurrency", "true").RejectOverConcurrency);
        Assert.False(Parse("--time-scale", "0.5").RejectOverConcurrency);
    }
}
