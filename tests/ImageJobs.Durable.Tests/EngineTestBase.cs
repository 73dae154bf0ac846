using ImageJobs.Durable.Storage;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Tests;

/// <summary>Starts engines on a store and disposes them after the test.</summary>
public abstract class EngineTestBase : IAsyncLifetime
{
    protected static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(30);
    private readonly List<DurableEngine> _engines = [];

    /// <summary>A unique task hub per test (blob container per hub).</summary>
    protected string HubName { get; } = "t" + Guid.NewGuid().ToString("N")[..16];

    protected abstract IDurableStore CreateStore();

    protected async Task<DurableEngine> StartEngineAsync(
        Action<DurableEngineBuilder> register, IDurableStore? store = null, Action<DurableEngineOptions>? configure = null, TimeProvider? time = null)
    {
        var builder = new DurableEngineBuilder()
            .UseStore(store ?? CreateStore())
            .Configure(o =>
            {
                o.HubName = HubName;
                o.MaxConcurrentActivityFunctions = 8;
                o.MaxConcurrentOrchestratorFunctions = 4;
                o.InstancePollingInterval = TimeSpan.FromMilliseconds(500);
                o.ClientPollingInterval = TimeSpan.FromMilliseconds(100);
                configure?.Invoke(o);
            });
        if (time is not null)
        {
            builder.UseTimeProvider(time);
        }

        register(builder);
        var engine = builder.Build();
        _engines.Add(engine);
        await engine.StartAsync();
        return engine;
    }

    /// <summary>Waits (generously) for a terminal status and fails with a clear message if it does not come.</summary>
    protected static async Task<OrchestrationInstance> WaitForCompletionAsync(IOrchestrationClient client, string instanceId)
    {
        using var cts = new CancellationTokenSource(CompletionTimeout);
        try
        {
            return await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
        }
        catch (OperationCanceledException)
        {
            var status = await client.GetInstanceAsync(instanceId, true);
            Assert.Fail($"Instance '{instanceId}' did not finish within {CompletionTimeout.TotalSeconds} s; it is {status?.RuntimeStatus.ToString() ?? "missing"} (custom status {status?.SerializedCustomStatus}).");
            throw;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing with <paramref name="what"/> after the timeout.</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var cts = new CancellationTokenSource(CompletionTimeout);
        while (!await condition())
        {
            if (cts.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(20);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }
    }
}
