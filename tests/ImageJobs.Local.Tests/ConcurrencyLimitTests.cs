using ImageJobs.Local.Durable;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local.Tests;

/// <summary>
/// host.json's concurrency limits on the local runtime: the Durable Task Framework's dispatchers
/// (<see cref="LocalDurableTaskWorker"/>) take them from the provider's settings.
/// </summary>
public sealed class ConcurrencyLimitTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const int Limit = 2;
    private const int FanOut = 8;

    [Fact]
    public async Task MaxConcurrentActivityFunctions_IsHeldByTheLocalRuntime_WithEveryActivityRun()
    {
        var running = 0;
        var peak = 0;
        await using var app = await TestApp.StartAsync(azurite,
            settings: new Dictionary<string, string?> { [TaskHubSettings.OverridePrefix + ":maxConcurrentActivityFunctions"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            configureTasks: tasks => tasks
                .AddActivityFunc<int, int>("Busy", async (_, n) =>
                {
                    var now = Interlocked.Increment(ref running);
                    InterlockedMax(ref peak, now);
                    await Task.Delay(300);
                    Interlocked.Decrement(ref running);
                    return n;
                })
                .AddOrchestratorFunc<int, int>("FanOut", async (context, n) =>
                    (await Task.WhenAll(Enumerable.Range(0, n).Select(i => context.CallActivityAsync<int>("Busy", i)))).Sum()));

        Assert.Equal(Limit, app.Environment.TaskHub!.Settings.MaxConcurrentTaskActivityWorkItems);
        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync("FanOut", FanOut);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(Enumerable.Range(0, FanOut).Sum(), done.ReadOutputAs<int>());
        Assert.Equal(Limit, peak);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }
}
