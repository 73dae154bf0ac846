using ImageJobs.Durable;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Local.Tests;

/// <summary>The local host's test hooks: the hub-name override and captured logs.</summary>
public sealed class LocalAppTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task HubNameSetting_OverridesHostJson_AndLogsAreCaptured()
    {
        await using var app = await TestApp.StartAsync(azurite);

        var engine = app.App.Services.GetRequiredService<DurableEngine>();
        Assert.Equal(app.Hub, engine.HubName);
        Assert.NotEqual("ImageJobsHub", engine.HubName);
        Assert.Contains(app.Logs.Entries, e => e.Contains(app.Hub, StringComparison.Ordinal));
    }
}
