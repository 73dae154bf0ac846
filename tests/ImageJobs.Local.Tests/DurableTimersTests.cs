using Azure.Data.Tables;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local.Tests;

/// <summary>
/// <see cref="DurableTimers.WaitUntilAsync"/> on the Azure Storage provider, whose timers count whole seconds: never
/// awake before the time asked for, and one re-wait at most instead of a spin of immediate sub-second timers; and
/// <see cref="DurableTimers.WaitUntilNearAsync"/>: awake within the granularity on the one timer asked for. How late a
/// wait wakes depends on the provider's polling and the machine's load, so it is measured by the polls benchmark, not
/// asserted here; what is asserted is what the workflow asks the provider for.
/// </summary>
public sealed class DurableTimersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Probe = "TimerProbe";

    // Fractional delays: each first timer is truncated to a whole second (or to zero), so it fires early.
    private static readonly double[] Delays = [1.5, 0.4, 2.3];

    [Fact]
    public async Task WaitUntil_OnTheAzureStorageProvider_NeverWakesEarly_AndReWaitsAtMostOncePerWait()
    {
        var (waits, timers) = await ProbeAsync((context, fireAt) => context.WaitUntilAsync(fireAt));
        Assert.All(waits, wait => Assert.True(wait.WokeAt >= wait.FireAt, $"Woke at {wait.WokeAt:O}, before {wait.FireAt:O}."));

        // One timer per wait, plus at most one re-wait each; every timer is due within a re-wait step of the time its
        // wait asked for, so no wait can be stretched by more than one step of its own making.
        Assert.InRange(timers.Count, Delays.Length, 2 * Delays.Length);
        Assert.All(timers, due => Assert.Contains(waits, wait => due >= wait.FireAt && due < wait.FireAt + DurableTimers.RewaitStep));
    }

    [Fact]
    public async Task WaitUntilNear_OnTheAzureStorageProvider_WakesWithinTheGranularity_OnOneTimerPerWait()
    {
        var (waits, timers) = await ProbeAsync((context, fireAt) => context.WaitUntilNearAsync(fireAt));
        Assert.All(waits, wait => Assert.True(wait.WokeAt >= wait.FireAt - DurableTimers.Granularity,
            $"Woke at {wait.WokeAt:O}, more than {DurableTimers.Granularity} before {wait.FireAt:O}."));

        // Exactly the timers asked for: one at each wait's own time, none for the wait already within the granularity
        // (it would fire at once), and no re-wait.
        var expected = waits.Zip(Delays).Where(w => TimeSpan.FromSeconds(w.Second) > DurableTimers.Granularity).Select(w => w.First.FireAt);
        Assert.Equal(expected, timers);
    }

    // Runs an orchestration on a fresh hub that waits for each of Delays in turn with wait; returns what each wait asked
    // for and woke at, and the FireAt of every timer the history holds.
    private async Task<(Wait[] Waits, List<DateTime> Timers)> ProbeAsync(Func<TaskOrchestrationContext, DateTime, Task> wait)
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: tasks =>
            tasks.AddOrchestratorFunc<double[], Wait[]>(Probe, async (context, delays) =>
            {
                var waits = new List<Wait>();
                foreach (var delay in delays)
                {
                    var fireAt = context.CurrentUtcDateTime + TimeSpan.FromSeconds(delay);
                    await wait(context, fireAt);
                    waits.Add(new Wait(fireAt, context.CurrentUtcDateTime));
                }

                return [.. waits];
            }));
        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(Probe, Delays);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var waits = done.ReadOutputAs<Wait[]>()!;
        Assert.Equal(Delays.Length, waits.Length);
        return (waits, await TimersAsync(app, id));
    }

    private async Task<List<DateTime>> TimersAsync(TestApp app, string id)
    {
        var timers = new List<DateTime>();
        var history = new TableServiceClient(azurite.ConnectionString).GetTableClient(app.Hub + "History");
        await foreach (var row in history.QueryAsync<TableEntity>(e => e.PartitionKey == id))
        {
            if (row.GetString("EventType") == "TimerCreated")
            {
                timers.Add(row.GetDateTimeOffset("FireAt")!.Value.UtcDateTime);
            }
        }

        return timers;
    }

    /// <summary>One wait of the probe: the time asked for and the orchestration time it woke at.</summary>
    public sealed record Wait(DateTime FireAt, DateTime WokeAt);
}
