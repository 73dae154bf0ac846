using Azure.Data.Tables;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Orchestrations;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local.Tests;

/// <summary>
/// <see cref="DurableTimers.WaitUntilAsync"/> on the Azure Storage provider, whose timers count whole seconds: never
/// awake before the time asked for, and one re-wait at most instead of a spin of immediate sub-second timers.
/// </summary>
public sealed class DurableTimersTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Probe = "TimerProbe";

    // Fractional delays: each first timer is truncated to a whole second (or to zero), so it fires early.
    private static readonly double[] Delays = [1.5, 0.4, 2.3];

    [Fact]
    public async Task WaitUntil_OnTheAzureStorageProvider_NeverWakesEarly_AndReWaitsAtMostOncePerWait()
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: tasks =>
            tasks.AddOrchestratorFunc<double[], double[]>(Probe, async (context, delays) =>
            {
                var lateness = new List<double>();
                foreach (var delay in delays)
                {
                    var fireAt = context.CurrentUtcDateTime + TimeSpan.FromSeconds(delay);
                    await context.WaitUntilAsync(fireAt);
                    lateness.Add((context.CurrentUtcDateTime - fireAt).TotalSeconds);
                }

                return [.. lateness];
            }));

        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(Probe, Delays);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);

        var lateness = done.ReadOutputAs<double[]>()!;
        Assert.Equal(Delays.Length, lateness.Length);
        Assert.All(lateness, late => Assert.InRange(late, 0, DurableTimers.RewaitStep.TotalSeconds + 0.5));

        var timers = 0;
        var history = new TableServiceClient(azurite.ConnectionString).GetTableClient(app.Hub + "History");
        await foreach (var row in history.QueryAsync<TableEntity>(e => e.PartitionKey == id))
        {
            timers += row.GetString("EventType") == "TimerCreated" ? 1 : 0;
        }

        Assert.InRange(timers, Delays.Length, 2 * Delays.Length);
    }
}
