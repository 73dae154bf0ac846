using System.Text.Json.Nodes;
using Azure.Data.Tables;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Durable;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Api;
using ImageJobs.Workflow.Orchestrations;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImageJobs.Local.Tests;

/// <summary>The local host's test hooks (the hub-name override, captured logs) and what its task hub owns.</summary>
public sealed class LocalAppTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task HubNameSetting_OverridesHostJson_AndLogsAreCaptured()
    {
        await using var app = await TestApp.StartAsync(azurite);

        var settings = app.Environment.TaskHub!.Settings;
        Assert.Equal(app.Hub, settings.TaskHubName);
        Assert.NotEqual("ImageJobsHub", settings.TaskHubName);
        Assert.Contains(app.Logs.Entries, e => e.Contains(app.Hub, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kestrel_RequestBodyLimit_IsTheJobsApiLimit()
    {
        await using var app = await TestApp.StartAsync(azurite);

        var kestrel = app.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(JobsApi.MaxBodyBytes, kestrel.Limits.MaxRequestBodySize);
    }

    [Fact]
    public async Task TaskHub_Disposed_DisposesTheLoggerFactoryItWasGiven()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [LocalApp.HubNameSetting] = "T" + Guid.NewGuid().ToString("N")[..16],
        }).Build();
        var settings = TaskHubSettings.FromHostJson(HostJson.Read(Path.Combine(RepoPaths.Root, "host.json")), configuration, azurite.ConnectionString);
        var loggerFactory = new TrackedLoggerFactory();
        var hub = await LocalTaskHub.StartAsync(settings, loggerFactory, CancellationToken.None);
        Assert.False(loggerFactory.Disposed);

        await hub.DisposeAsync();

        Assert.True(loggerFactory.Disposed);
    }

    private sealed class TrackedLoggerFactory : ILoggerFactory
    {
        private readonly LoggerFactory _inner = new();

        public bool Disposed { get; private set; }

        public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

        public ILogger CreateLogger(string categoryName) => _inner.CreateLogger(categoryName);

        public void Dispose()
        {
            Disposed = true;
            _inner.Dispose();
        }
    }

    [Fact]
    public async Task Job_RunsOnTheAzureStorageProvider_ItsInstanceIsACompletedRowInTheHubsInstancesTable()
    {
        // wanx-v1 at time scale 0.1 runs 2.6–3.1 s: its first poll waits on a durable timer (a wait within the timers'
        // one-second granularity takes none, see DurableTimers.WaitUntilNearAsync).
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { TimeScale = 0.1 });
        var id = await app.StartJobAsync(new JsonObject { ["model"] = "wanx-v1", ["input"] = new JsonObject { ["prompt"] = "a row" }, ["parameters"] = new JsonObject { ["n"] = 1 } });
        await app.WaitForJobAsync(id);

        // The tables Durable Functions' Azure Storage provider writes, read directly: {hub}Instances and {hub}History.
        var tables = new TableServiceClient(azurite.ConnectionString);
        var row = (await tables.GetTableClient(app.Hub + "Instances").GetEntityAsync<TableEntity>(id, string.Empty)).Value;
        Assert.Equal("Completed", row.GetString("RuntimeStatus"));
        Assert.Equal(nameof(ImageJobOrchestrator), row.GetString("Name"));
        var history = tables.GetTableClient(app.Hub + "History").QueryAsync<TableEntity>(e => e.PartitionKey == id);
        var events = new List<string>();
        await foreach (var e in history)
        {
            events.Add(e.GetString("EventType") ?? string.Empty);
        }

        Assert.Contains("ExecutionStarted", events);
        Assert.Contains("TimerFired", events);
        Assert.Contains("TaskCompleted", events);
        Assert.Contains("ExecutionCompleted", events);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, "0.01")]
    public async Task EmbeddedEmulator_ScaledRateWindows_AppPacesToTheSameScale(bool scaled, string? expectedRateWindowScale)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["DashScopeEmulator:TimeScale"] = "0.01",
            ["DashScopeEmulator:ScaleRateWindows"] = scaled ? "true" : "false",
        }).Build();

        await using var environment = await LocalEnvironment.PrepareAsync(RepoPaths.Root, configuration, inMemoryStorage: true, CancellationToken.None);

        Assert.Equal("0.01", environment.Settings["ImageJobs:ExpectedDurationScale"]);
        Assert.Equal(expectedRateWindowScale, environment.Settings.GetValueOrDefault("ImageJobs:RateWindowScale"));
    }

    [Fact]
    public async Task EmbeddedEmulator_ItsAllowListedAddress_IsPrintedAtStart()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
        }).Build();

        await using var environment = await LocalEnvironment.PrepareAsync(RepoPaths.Root, configuration, inMemoryStorage: true, CancellationToken.None);

        var authority = environment.Emulator!.RootAddress.Authority;
        Assert.Equal(authority, environment.Settings["ImageJobs:Outbound:AllowedHosts:100"]);
        Assert.Contains(environment.Notes, n => n.StartsWith("Outbound:", StringComparison.Ordinal) && n.Contains(authority, StringComparison.Ordinal)
            && n.Contains("webhooks", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EmbeddedEmulator_UserConfiguredResultHosts_AreKeptAndTheEmulatorIsAppended()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["ImageJobs:ResultHosts:0"] = "images.example.com",
            ["ImageJobs:ResultHosts:1"] = "cdn.example.com",
        }).Build();

        await using var environment = await LocalEnvironment.PrepareAsync(RepoPaths.Root, configuration, inMemoryStorage: true, CancellationToken.None);
        var merged = new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(environment.Settings).Build();

        var hosts = merged.GetSection("ImageJobs:ResultHosts").Get<string[]>() ?? [];
        Assert.Equal(["images.example.com", "cdn.example.com", environment.Emulator!.RootAddress.Authority], hosts);
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
