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

    [Fact]
    public async Task MalformedWebhookSecret_FailsAtStartWithAClearMessage()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = await TestApp.StartAsync(azurite, settings: new Dictionary<string, string?> { ["IMAGEJOBS_WEBHOOK_SECRET"] = "whsec_not%base64!" });
        });

        Assert.Contains("IMAGEJOBS_WEBHOOK_SECRET", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not%base64", error.Message, StringComparison.Ordinal);
    }
}
