using OrchestrationAlreadyExistsException = DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The local engine: the Durable Task Framework's <c>TaskHubWorker</c> running Microsoft.DurableTask orchestrators and
/// activities through the shims (<see cref="Durable.LocalDurableTaskWorker"/>), and the client adapter
/// (<see cref="Durable.LocalDurableTaskClient"/>), on the Azure Storage provider over Azurite.
/// </summary>
public sealed class LocalEngineTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Counter = "TestCountsByContinuingAsNew";
    private const string Step = "TestStep";
    private const string Parent = "TestParent";
    private const string Child = "TestChild";
    private const string CallsMissing = "TestCallsAMissingActivity";
    private const string Waits = "TestWaitsForGo";

    private static CancellationToken Minutes(int n) => new CancellationTokenSource(TimeSpan.FromMinutes(n)).Token;

    private static Action<DurableTaskRegistry> Tasks => tasks => tasks
        .AddActivityFunc<int, int>(Step, (_, n) => n + 1)
        // Each generation makes a few activity calls, then continues as new with what it has counted.
        .AddOrchestratorFunc<int[], int>(Counter, async (context, state) =>
        {
            var (count, target) = (state![0], state[1]);
            for (var i = 0; i < 4 && count < target; i++)
            {
                count = await context.CallActivityAsync<int>(Step, count);
            }

            if (count < target)
            {
                context.ContinueAsNew(new[] { count, target });
                return -1;
            }

            return count;
        })
        .AddOrchestratorFunc<string, string>(Child, (context, _) => Task.FromResult(context.Parent?.InstanceId + "/" + context.Parent?.Name))
        .AddOrchestratorFunc<string, string>(Parent, (context, _) => context.CallSubOrchestratorAsync<string>(Child))
        .AddOrchestratorFunc<string, string>(CallsMissing, async (context, _) =>
        {
            try
            {
                await context.CallActivityAsync<string>("NoSuchActivity");
                return "called";
            }
            catch (TaskFailedException failed)
            {
                return "failed: " + failed.FailureDetails.ErrorMessage;
            }
        })
        .AddOrchestratorFunc<string, string>(Waits, async (context, input) => input + ":" + await context.WaitForExternalEvent<string>("go"));

    [Fact]
    public async Task Orchestration_ContinuesAsNew_CompletesWithItsCarriedStateAndOneGenerationOfHistory()
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: Tasks);

        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(Counter, new[] { 0, 20 });
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Minutes(2));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(20, done.ReadOutputAs<int>());
        // 20 calls in 5 generations: one generation's rows remain (4 calls: 8 task events, plus episode markers),
        // where one long execution would hold 40 task events.
        var rows = await app.HistoryRowsAsync(id);
        Assert.InRange(rows, 1, 25);
    }

    [Fact]
    public async Task SubOrchestration_SeesItsParent()
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: Tasks);

        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(Parent, "x");
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Minutes(1));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(id + "/" + Parent, done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task CallToAnUnregisteredActivity_FailsTheCall_InsteadOfRetryingForever()
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: Tasks);

        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(CallsMissing, "x");
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Minutes(1));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Contains("NoSuchActivity", done.ReadOutputAs<string>(), StringComparison.Ordinal);
        Assert.StartsWith("failed: ", done.ReadOutputAs<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_StartWithEveryDedupeStatus_RefusesASecondStartOfTheSameId()
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: Tasks);
        var options = new StartOrchestrationOptions("dedupe-" + Guid.NewGuid().ToString("N"))
            .WithDedupeStatuses([.. StartOrchestrationOptionsExtensions.ValidDedupeStatuses]);

        var id = await app.Client.ScheduleNewOrchestrationInstanceAsync(Waits, "first", options);
        await app.Client.WaitForInstanceStartAsync(id, Minutes(1));
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => app.Client.ScheduleNewOrchestrationInstanceAsync(Waits, "second", options));
        await app.Client.RaiseEventAsync(id, "go", "went");
        var done = await app.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Minutes(1));
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => app.Client.ScheduleNewOrchestrationInstanceAsync(Waits, "third", options));

        Assert.Equal("first:went", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Client_ReadsListsSuspendsTerminatesAndPurges_AsTheJobsApiUsesIt()
    {
        await using var app = await TestApp.StartAsync(azurite, configureTasks: Tasks);
        var prefix = "list-" + Guid.NewGuid().ToString("N")[..8] + "-";
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await app.Client.ScheduleNewOrchestrationInstanceAsync(Waits, "in" + i, new StartOrchestrationOptions(prefix + i)));
        }

        foreach (var id in ids)
        {
            await app.Client.WaitForInstanceStartAsync(id, Minutes(1));
        }

        // Two at a time, by continuation token.
        var listed = new List<string>();
        var pages = 0;
        await foreach (var page in app.Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 2 }).AsPages())
        {
            pages++;
            Assert.InRange(page.Values.Count, 0, 2);
            listed.AddRange(page.Values.Select(v => v.InstanceId));
        }

        Assert.Equal(ids.Order(), listed.Order());
        Assert.InRange(pages, 3, 4);

        var read = await app.Client.GetInstanceAsync(ids[0], getInputsAndOutputs: true);
        Assert.Equal(OrchestrationRuntimeStatus.Running, read!.RuntimeStatus);
        Assert.Equal("in0", read.ReadInputAs<string>());
        Assert.Null((await app.Client.GetInstanceAsync(ids[0], getInputsAndOutputs: false))!.SerializedInput);
        Assert.Null(await app.Client.GetInstanceAsync(prefix + "missing"));

        await app.Client.SuspendInstanceAsync(ids[1], "pause");
        await Eventually.GetAsync(async () => (await app.Client.GetInstanceAsync(ids[1]))!.RuntimeStatus == OrchestrationRuntimeStatus.Suspended ? "suspended" : null,
            "the instance suspended", TimeSpan.FromSeconds(30));
        await app.Client.ResumeInstanceAsync(ids[1], "go on");
        await app.Client.RaiseEventAsync(ids[1], "go", "resumed");
        Assert.Equal("in1:resumed", (await app.Client.WaitForInstanceCompletionAsync(ids[1], getInputsAndOutputs: true, Minutes(1))).ReadOutputAs<string>());

        await Assert.ThrowsAsync<InvalidOperationException>(() => app.Client.PurgeInstanceAsync(ids[2]));
        await app.Client.TerminateInstanceAsync(ids[2], "stop");
        var terminated = await app.Client.WaitForInstanceCompletionAsync(ids[2], getInputsAndOutputs: true, Minutes(1));
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, terminated.RuntimeStatus);
        Assert.Equal("stop", terminated.ReadOutputAs<string>());
        Assert.Equal(1, (await app.Client.PurgeInstanceAsync(ids[2])).PurgedInstanceCount);
        Assert.Null(await app.Client.GetInstanceAsync(ids[2]));

        var completed = new List<string>();
        await foreach (var instance in app.Client.GetAllInstancesAsync(new OrchestrationQuery
        {
            InstanceIdPrefix = prefix,
            Statuses = [OrchestrationRuntimeStatus.Completed],
        }))
        {
            completed.Add(instance.InstanceId);
        }

        Assert.Equal([ids[1]], completed);
    }
}
