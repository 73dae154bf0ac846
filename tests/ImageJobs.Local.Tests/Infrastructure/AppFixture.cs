using ImageJobs.DashScope.Emulator;
using ImageJobs.Testing;
using ImageJobs.Workflow.Hosting;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>
/// A class fixture: a private Azurite, a webhook receiver, and one shared app with its own emulator, for test classes
/// whose tests don't interfere. Tests that need other emulator settings start their own <see cref="TestApp"/> on
/// <see cref="Azurite"/> (one with triggers at a time).
/// </summary>
public abstract class AppFixture : IAsyncLifetime
{
    public AzuriteFixture Azurite { get; } = new();

    public TestApp App { get; private set; } = null!;

    public WebhookReceiver Webhooks { get; private set; } = null!;

    public CompletionQueueReader Completions { get; private set; } = null!;

    protected virtual bool Triggers => false;

    protected virtual DashScopeEmulatorOptions EmulatorOptions => new() { TimeScale = 0.01, LimitScale = 20 };

    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true",
    };

    public async Task InitializeAsync()
    {
        await Azurite.InitializeAsync();
        Webhooks = await WebhookReceiver.StartAsync();
        App = await TestApp.StartAsync(Azurite, EmulatorOptions, Settings, Triggers);
        Completions = new CompletionQueueReader(App.Queues.GetQueueClient(new ImageJobsOptions().CompletionQueue));
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Webhooks is not null)
        {
            await Webhooks.DisposeAsync();
        }

        await Azurite.DisposeAsync();
    }
}
