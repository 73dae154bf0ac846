using ImageJobs.Local.Durable;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The local task hub's recovery settings: short queue visibility, renewed while work runs, so a live process never
/// hands out the same work twice and a dead one's work comes back within seconds.
/// </summary>
public sealed class TaskHubRecoveryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string SlowOrchestrator = "TestSlowOrchestrator";
    private const string SlowActivity = "TestSlowActivity";

    [Fact]
    public async Task ActivityLongerThanItsVisibilityTimeout_RunsOnce_BecauseItsMessageIsRenewed()
    {
        var runs = 0;
        await using var app = await TestApp.StartAsync(azurite,
            configureTasks: tasks => tasks
                .AddOrchestratorFunc<int, int>(SlowOrchestrator, (context, seconds) => context.CallActivityAsync<int>(SlowActivity, seconds))
                .AddActivityFunc<int, int>(SlowActivity, async (_, seconds) =>
                {
                    var run = Interlocked.Increment(ref runs);
                    await Task.Delay(TimeSpan.FromSeconds(seconds));
                    return run;
                }));
        var settings = app.Environment.TaskHub!.Settings;
        Assert.Equal(LocalRecovery.Visibility, settings.WorkItemQueueVisibilityTimeout);

        // Over two visibility timeouts long: the framework's dispatcher renews the message every 5 s while it runs.
        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(SlowOrchestrator, (int)(LocalRecovery.Visibility.TotalSeconds * 2.2));
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(1, done.ReadOutputAs<int>());
        await Task.Delay(TimeSpan.FromSeconds(2)); // a duplicate delivered at the last timeout would have started by now
        Assert.Equal(1, Volatile.Read(ref runs));
        // Without the renewal the provider dequeues the message again while it runs (it drops that copy, logging an
        // internal assert) and then cannot delete it with the old receipt: both show in its log.
        Assert.DoesNotContain(app.Logs.Entries, e => e.Contains("is being processed multiple times concurrently", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Entries, e => e.Contains("An error occurred while processing message", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartMessageDeliveredAgain_AsAfterACrashBetweenCommitAndDelete_IsDroppedAndTheInstanceGoesOn()
    {
        const string Waiting = "TestWaitsForGo";
        await using var app = await TestApp.StartAsync(azurite,
            configureTasks: tasks => tasks.AddOrchestratorFunc<string, string>(Waiting, async (context, input) =>
                input + ":" + await context.WaitForExternalEvent<string>("go")));
        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(Waiting, "started");
        await app.Client.WaitForInstanceStartAsync(id, new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        await Task.Delay(TimeSpan.FromSeconds(1)); // its first episode committed, and its start message deleted

        // The provider commits an episode's history before it deletes the messages: a process killed in between leaves
        // the start message to be delivered again, with the same execution id, to whoever owns the partition next.
        var service = app.Environment.TaskHub!.Service;
        var state = await service.GetOrchestrationStateAsync(id, allExecutions: false);
        var instance = new DurableTask.Core.OrchestrationInstance { InstanceId = id, ExecutionId = state[0].OrchestrationInstance.ExecutionId };
        await service.SendTaskOrchestrationMessageAsync(new DurableTask.Core.TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new DurableTask.Core.History.ExecutionStartedEvent(-1, "\"started\"") { OrchestrationInstance = instance, Name = Waiting },
        });
        await Task.Delay(TimeSpan.FromSeconds(2));
        await app.Client.RaiseEventAsync(id, "go", "went");

        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("started:went", done.ReadOutputAs<string>());
        // A dispatcher that added every new message to the history (as the gRPC test sidecar's did) would fail each
        // episode that carries a second ExecutionStarted; the framework's drops it, and says so.
        Assert.DoesNotContain(app.Logs.Entries, e => e.Contains("Multiple ExecutionStartedEvent", StringComparison.Ordinal));
        Assert.Contains(app.Logs.Entries, e => e.Contains("Duplicate start event", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LocalSettings_ShortVisibilityLeasesAndAWorkerIdPerProcess_UnlessHostJsonSaysOtherwise()
    {
        await using var app = await TestApp.StartAsync(azurite,
            settings: new Dictionary<string, string?>
            {
                // Durable's own defaults, given explicitly: kept, not taken for left out.
                ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:05:00",
                ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:controlQueueBufferThreshold"] = "256",
            });
        var settings = app.Environment.TaskHub!.Settings;

        Assert.Equal(LocalRecovery.Visibility, settings.WorkItemQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.ControlQueueVisibilityTimeout); // named explicitly: kept
        Assert.Equal(256, settings.ControlQueueBufferThreshold); // named explicitly: kept
        var unset = new DurableTask.AzureStorage.AzureStorageOrchestrationServiceSettings();
        LocalRecovery.Apply(unset, _ => false); // nothing given
        Assert.Equal((LocalRecovery.Visibility, LocalRecovery.ControlQueueVisibility), (unset.WorkItemQueueVisibilityTimeout, unset.ControlQueueVisibilityTimeout));
        Assert.Equal(LocalRecovery.ControlQueueBufferThreshold, unset.ControlQueueBufferThreshold);
        Assert.Equal(LocalRecovery.LeaseInterval, settings.LeaseInterval);
        Assert.Equal(LocalRecovery.LeaseRenewInterval, settings.LeaseRenewInterval);
        Assert.EndsWith("-" + Environment.ProcessId, settings.WorkerId, StringComparison.Ordinal);
        Assert.True(settings.ThrowExceptionOnInvalidDedupeStatus);
    }
}
