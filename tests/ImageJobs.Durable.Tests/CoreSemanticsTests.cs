using System.Collections.Concurrent;
using ImageJobs.Durable.Model;
using ImageJobs.Durable.Replay;
using ImageJobs.Durable.Storage;
using ImageJobs.Testing;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Tests;

/// <summary>Replay semantics that must hold on every store: run on the in-memory store and on blobs (Azurite).</summary>
public abstract class CoreSemanticsTests : EngineTestBase
{
    private readonly ConcurrentDictionary<string, int> _executions = new();

    private int Executions(string key) => _executions.GetValueOrDefault(key);

    private void Count(string key) => _executions.AddOrUpdate(key, 1, (_, n) => n + 1);

    private DurableEngineBuilder Activities(DurableEngineBuilder b) => b
        .AddActivity<int, int>("Add1", (x, _) => { Count("Add1:" + x); return Task.FromResult(x + 1); })
        .AddActivity<int, int>("Square", (x, _) => { Count("Square"); return Task.FromResult(x * x); })
        .AddActivity<string, string>("Fail", (x, _) => { Count("Fail"); throw new InvalidOperationException("boom " + x); })
        .AddActivity<string, string>("Echo", (x, _) => Task.FromResult(x));

    [Fact]
    public async Task CallActivityAsync_Sequential_ChainsResultsAndRunsEachActivityOnce()
    {
        var engine = await StartEngineAsync(b => Activities(b).AddOrchestration<int, int>("Seq", async (ctx, x) =>
        {
            var a = await ctx.CallActivityAsync<int>("Add1", x);
            var c = await ctx.CallActivityAsync<int>("Add1", a);
            return await ctx.CallActivityAsync<int>("Add1", c);
        }));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Seq", 10);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
        Assert.Equal(13, done.ReadOutputAs<int>());
        Assert.Equal([1, 1, 1], new[] { Executions("Add1:10"), Executions("Add1:11"), Executions("Add1:12") });
        var scheduled = (await engine.GetHistoryAsync(id)).Where(e => e.Kind == EventKind.TaskScheduled).Select(e => e.Data!).ToArray();
        Assert.Equal(["10", "11", "12"], scheduled);
    }

    [Fact]
    public async Task CallActivityAsync_FanOutFanIn100_SumsAllResultsExactlyOnce()
    {
        var engine = await StartEngineAsync(b => Activities(b).AddOrchestration<int, int>("FanOut", async (ctx, n) =>
        {
            var tasks = Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Square", i)).ToList();
            var results = await Task.WhenAll(tasks);
            return results.Sum();
        }));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("FanOut", 100);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
        Assert.Equal(Enumerable.Range(1, 100).Sum(i => i * i), done.ReadOutputAs<int>());
        Assert.Equal(100, Executions("Square"));
    }

    [Fact]
    public async Task CallActivityAsync_RetryExhausted_WaitsWithBackoffThenFailsWithActivityFailure()
    {
        var policy = new ActivityRetryPolicy(3, TimeSpan.FromMilliseconds(50), backoffCoefficient: 2);
        var engine = await StartEngineAsync(b => Activities(b).AddOrchestration<string, string>("Retry", (ctx, x) =>
            ctx.CallActivityAsync<string>("Fail", x, policy)));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Retry", "x");
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Failed, done.RuntimeStatus);
        Assert.Equal(typeof(OrchestrationTaskFailedException).FullName, done.FailureDetails!.ErrorType);
        Assert.Equal(typeof(InvalidOperationException).FullName, done.FailureDetails.InnerFailure!.ErrorType);
        Assert.Equal("boom x", done.FailureDetails.InnerFailure.ErrorMessage);
        Assert.Equal(3, Executions("Fail"));
        var waits = (await engine.GetHistoryAsync(id)).Where(e => e.Kind == EventKind.TimerCreated).Select(e => e.FireAt!.Value - e.Timestamp).ToArray();
        Assert.Equal([TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100)], waits);
    }

    [Fact]
    public async Task CreateTimer_PastAndFuture_FireInOrderAndTimeAdvances()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, string[]>("Timers", async (ctx, _) =>
        {
            var start = ctx.CurrentUtcDateTime;
            await ctx.CreateTimer(start.AddHours(-1), CancellationToken.None);
            var afterPast = ctx.CurrentUtcDateTime;
            await ctx.CreateTimer(TimeSpan.FromMilliseconds(300), CancellationToken.None);
            var afterFuture = ctx.CurrentUtcDateTime;
            return [(afterPast >= start).ToString(), (afterFuture >= afterPast.AddMilliseconds(300)).ToString()];
        }));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Timers", 0);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
        Assert.Equal(["True", "True"], done.ReadOutputAs<string[]>()!);
        Assert.Equal(2, (await engine.GetHistoryAsync(id)).Count(e => e.Kind == EventKind.TimerFired));
    }

    [Fact]
    public async Task WaitForExternalEvent_RaisedBeforeWaiting_IsBufferedAndDeliveredInOrder()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, string>("Events", async (ctx, _) =>
        {
            await ctx.CreateTimer(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            var first = await ctx.WaitForExternalEvent<string>("approval");
            var second = await ctx.WaitForExternalEvent<string>("APPROVAL");
            var other = await ctx.WaitForExternalEvent<int>("Other");
            return $"{first},{second},{other}";
        }));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Events", 0);
        await engine.Client.RaiseEventAsync(id, "Other", 7);
        await engine.Client.RaiseEventAsync(id, "Approval", "one");
        await engine.Client.RaiseEventAsync(id, "approval", "two");
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal("one,two,7", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task CallSubOrchestratorAsync_ExplicitIdAndFailure_ReturnsOutputAndSurfacesChildFailure()
    {
        var engine = await StartEngineAsync(b => Activities(b)
            .AddOrchestration<int, int>("Child", async (ctx, x) =>
            {
                if (x < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(x), "negative child input");
                }

                return await ctx.CallActivityAsync<int>("Add1", x);
            })
            .AddOrchestration<int, string>("Parent", async (ctx, x) =>
            {
                var ok = await ctx.CallSubOrchestratorAsync<int>("Child", x, instanceId: ctx.InstanceId + "-child");
                try
                {
                    await ctx.CallSubOrchestratorAsync<int>("Child", -1);
                    return "no failure";
                }
                catch (OrchestrationTaskFailedException ex)
                {
                    return $"{ok}|{ex.TaskName}|{ex.FailureDetails.ErrorType}|{ex.FailureDetails.ErrorMessage}";
                }
            }));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Parent", 41, new ScheduleOrchestrationOptions("parent-1"));
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
        var parts = done.ReadOutputAs<string>()!.Split('|');
        Assert.Equal("42", parts[0]);
        Assert.Equal("Child", parts[1]);
        Assert.Equal(typeof(ArgumentOutOfRangeException).FullName, parts[2]);
        Assert.Contains("negative child input", parts[3], StringComparison.Ordinal);
        var child = await engine.Client.GetInstanceAsync("parent-1-child", true);
        Assert.Equal(OrchestrationStatus.Completed, child!.RuntimeStatus);
        Assert.Equal(42, child.ReadOutputAs<int>());
    }

    [Fact]
    public async Task ContinueAsNew_Loop_ResetsHistoryAndKeepsLatestInput()
    {
        var engine = await StartEngineAsync(b => Activities(b).AddOrchestration<int, int>("Counter", async (ctx, n) =>
        {
            var next = await ctx.CallActivityAsync<int>("Add1", n);
            if (next < 5)
            {
                ctx.ContinueAsNew(next);
            }

            return next;
        }));

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Counter", 0);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(5, done.ReadOutputAs<int>());
        Assert.Equal("4", done.SerializedInput);
        var history = await engine.GetHistoryAsync(id);
        Assert.Single(history, e => e.Kind == EventKind.TaskScheduled);
        Assert.Single(history, e => e.Kind == EventKind.ExecutionStarted);
    }

    [Fact]
    public async Task Replay_ActivityChangedAtSamePosition_FailsInstanceNamingBoth()
    {
        var store = CreateStore();
        var v1 = await StartEngineAsync(b => Activities(b).AddOrchestration<int, int>("Versioned", async (ctx, x) =>
        {
            var a = await ctx.CallActivityAsync<int>("Add1", x);
            ctx.SetCustomStatus("waiting");
            await ctx.WaitForExternalEvent<string>("go");
            return a;
        }), store);
        var id = await v1.Client.ScheduleNewOrchestrationInstanceAsync("Versioned", 1);
        await WaitUntilAsync(async () => (await v1.Client.GetInstanceAsync(id, true))?.ReadCustomStatusAs<string>() == "waiting", "v1 waits for the event");
        await v1.DisposeAsync();

        var v2 = await StartEngineAsync(b => Activities(b).AddOrchestration<int, int>("Versioned", async (ctx, x) =>
        {
            var a = await ctx.CallActivityAsync<int>("Square", x);
            await ctx.WaitForExternalEvent<string>("go");
            return a;
        }), store);
        await v2.Client.RaiseEventAsync(id, "go", "now");
        var done = await WaitForCompletionAsync(v2.Client, id);

        Assert.Equal(OrchestrationStatus.Failed, done.RuntimeStatus);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, done.FailureDetails!.ErrorType);
        Assert.Contains("activity 'Add1'", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("activity 'Square'", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, Executions("Square"));
    }

    [Fact]
    public async Task ScheduleNewOrchestrationInstanceAsync_SameIdTwice_IsIdempotentAndConflictsOnOtherName()
    {
        var engine = await StartEngineAsync(b => Activities(b)
            .AddOrchestration<int, int>("Job", async (ctx, x) =>
            {
                var paid = await ctx.CallActivityAsync<int>("Add1", x);
                await ctx.WaitForExternalEvent<string>("finish");
                return paid;
            })
            .AddOrchestration<int, int>("OtherJob", (_, x) => Task.FromResult(x)));

        var first = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Job", 100, new ScheduleOrchestrationOptions("job-1"));
        var second = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Job", 200, new ScheduleOrchestrationOptions("job-1"));
        await engine.Client.RaiseEventAsync("job-1", "finish");
        var done = await WaitForCompletionAsync(engine.Client, "job-1");
        var third = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Job", 300, new ScheduleOrchestrationOptions("job-1"));
        await engine.WaitForIdleAsync(CancellationToken.None);

        Assert.Equal(["job-1", "job-1", "job-1"], new[] { first, second, third });
        Assert.Equal(101, done.ReadOutputAs<int>());
        Assert.Equal(1, Executions("Add1:100"));
        Assert.Equal(0, Executions("Add1:200") + Executions("Add1:300"));
        Assert.Equal(OrchestrationStatus.Completed, (await engine.Client.GetInstanceAsync("job-1"))!.RuntimeStatus);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            engine.Client.ScheduleNewOrchestrationInstanceAsync("OtherJob", 1, new ScheduleOrchestrationOptions("job-1")));
    }

    [Fact]
    public async Task TerminateInstanceAsync_WhileWaitingOnTimer_TerminatesAndDropsTimer()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, int>("Sleeper", async (ctx, _) =>
        {
            await ctx.CreateTimer(TimeSpan.FromHours(1), CancellationToken.None);
            return 1;
        }));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Sleeper", 0);
        await WaitUntilAsync(async () => (await engine.GetRecordAsync(id))?.Timers.Count == 1, "the timer is created");

        await engine.Client.TerminateInstanceAsync(id, "stop");
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Terminated, done.RuntimeStatus);
        Assert.Equal("stop", done.ReadOutputAs<string>());
        Assert.Empty((await engine.GetRecordAsync(id))!.Timers);
    }
}

public sealed class InMemoryCoreSemanticsTests : CoreSemanticsTests
{
    private readonly InMemoryDurableStore _store = new();

    protected override IDurableStore CreateStore() => _store;
}

[Collection(AzuriteGroup.Name)]
public sealed class BlobCoreSemanticsTests(AzuriteFixture azurite) : CoreSemanticsTests
{
    protected override IDurableStore CreateStore() => new BlobDurableStore(azurite.ConnectionString, HubName);
}
