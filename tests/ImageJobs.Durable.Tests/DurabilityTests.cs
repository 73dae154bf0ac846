using System.Collections.Concurrent;
using ImageJobs.Durable.Storage;
using ImageJobs.Testing;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Tests;

/// <summary>Crashes, restarts and two engines on one task hub, against Azurite through the real blob SDK.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class DurabilityTests(AzuriteFixture azurite) : EngineTestBase
{
    private readonly ConcurrentDictionary<string, int> _executions = new();

    protected override IDurableStore CreateStore() => new BlobDurableStore(azurite.ConnectionString, HubName);

    private int Executions(string key) => _executions.GetValueOrDefault(key);

    private int Count(string key) => _executions.AddOrUpdate(key, 1, (_, n) => n + 1);

    private void Register(DurableEngineBuilder b) => Register(b, "any");

    private void Register(DurableEngineBuilder b, string engine) => b
        .AddActivity<string, string>("Step", (x, _) =>
        {
            Count("Step:" + x);
            Count("engine:" + engine);
            return Task.FromResult(x);
        })
        .AddActivity<string, string>("Slow", async (x, ct) =>
        {
            if (Count("Slow:" + x) == 1)
            {
                // First attempt: never finishes; the engine "crashes" while it runs.
                await Task.Delay(Timeout.Infinite, ct);
            }

            return x;
        })
        .AddOrchestration<string, string>("Chain", async (ctx, id) =>
        {
            await ctx.CallActivityAsync<string>("Step", id + "-1");
            await ctx.CallActivityAsync<string>("Step", id + "-2");
            ctx.SetCustomStatus("sleeping");
            await ctx.CreateTimer(TimeSpan.FromSeconds(4), CancellationToken.None); // Long enough to be pending at the crash even on a loaded machine.
            await ctx.CallActivityAsync<string>("Step", id + "-3");
            return "done";
        })
        .AddOrchestration<string, string>("WithSlow", async (ctx, id) =>
        {
            await ctx.CallActivityAsync<string>("Step", id + "-1");
            await ctx.CallActivityAsync<string>("Slow", id);
            await ctx.CallActivityAsync<string>("Step", id + "-2");
            return "done";
        })
        .AddOrchestration<string, string>("Mixed", async (ctx, id) =>
        {
            await ctx.CallActivityAsync<string>("Step", id + "-a");
            await Task.WhenAll(Enumerable.Range(0, 5).Select(i => ctx.CallActivityAsync<string>("Step", $"{id}-f{i}")));
            var go = await ctx.WaitForExternalEvent<string>("go");
            await ctx.CallActivityAsync<string>("Step", id + "-z");
            return go;
        });

    [Fact]
    public async Task Restart_AfterCrashWhileTimerPending_CompletesWithoutRerunningCompletedActivities()
    {
        var store = CreateStore();
        var first = await StartEngineAsync(Register, store);
        var ids = new[] { "c1", "c2", "c3" };
        foreach (var id in ids)
        {
            await first.Client.ScheduleNewOrchestrationInstanceAsync("Chain", id, new ScheduleOrchestrationOptions(id));
        }

        await WaitUntilAsync(async () =>
        {
            foreach (var id in ids)
            {
                if ((await first.Client.GetInstanceAsync(id, true))?.ReadCustomStatusAs<string>() != "sleeping")
                {
                    return false;
                }
            }

            return true;
        }, "every instance sleeps on its timer");
        await first.DisposeAsync();
        var afterCrash = ids.Sum(id => Executions(id + "-3"));

        var second = await StartEngineAsync(Register, CreateStore());
        foreach (var id in ids)
        {
            var done = await WaitForCompletionAsync(second.Client, id);
            Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
        }

        Assert.Equal(0, afterCrash);
        foreach (var id in ids)
        {
            Assert.Equal([1, 1, 1], new[] { Executions($"Step:{id}-1"), Executions($"Step:{id}-2"), Executions($"Step:{id}-3") });
        }
    }

    [Fact]
    public async Task Restart_AfterCrashWhileActivityRuns_RerunsOnlyThatActivityOnce()
    {
        void ShortLease(DurableEngineOptions o) => o.ActivityLeaseDuration = TimeSpan.FromSeconds(2);
        var first = await StartEngineAsync(Register, configure: ShortLease);
        await first.Client.ScheduleNewOrchestrationInstanceAsync("WithSlow", "s", new ScheduleOrchestrationOptions("s"));
        await WaitUntilAsync(() => Task.FromResult(Executions("Slow:s") == 1), "the slow activity is running");
        await first.DisposeAsync();

        var second = await StartEngineAsync(Register, configure: ShortLease);
        var done = await WaitForCompletionAsync(second.Client, "s");

        Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
        Assert.Equal(2, Executions("Slow:s"));
        Assert.Equal(1, Executions("Step:s-1"));
        Assert.Equal(1, Executions("Step:s-2"));
    }

    [Fact]
    public async Task TwoEngines_OneHub_EachInstanceAndActivityCompletesExactlyOnce()
    {
        void FastPolling(DurableEngineOptions o) => o.InstancePollingInterval = TimeSpan.FromMilliseconds(200);
        var a = await StartEngineAsync(e => Register(e, "a"), configure: FastPolling);
        var b = await StartEngineAsync(e => Register(e, "b"), configure: FastPolling);
        var ids = Enumerable.Range(0, 12).Select(i => $"m{i:D2}").ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            var client = i % 2 == 0 ? a.Client : b.Client;
            await client.ScheduleNewOrchestrationInstanceAsync("Mixed", ids[i], new ScheduleOrchestrationOptions(ids[i]));
        }

        for (var i = 0; i < ids.Length; i++)
        {
            // Raise the event through the other engine than the one that scheduled the instance.
            var client = i % 2 == 0 ? b.Client : a.Client;
            await client.RaiseEventAsync(ids[i], "go", "ok-" + ids[i]);
        }

        foreach (var id in ids)
        {
            var done = await WaitForCompletionAsync(a.Client, id);
            Assert.Equal(OrchestrationStatus.Completed, done.RuntimeStatus);
            Assert.Equal("ok-" + id, done.ReadOutputAs<string>());
        }

        await a.WaitForIdleAsync(CancellationToken.None);
        await b.WaitForIdleAsync(CancellationToken.None);
        foreach (var id in ids)
        {
            var steps = new[] { "a", "f0", "f1", "f2", "f3", "f4", "z" }.Select(s => Executions($"Step:{id}-{s}")).ToArray();
            Assert.True(steps.All(n => n == 1), $"{id}: executions {string.Join(",", steps)}");
        }

        Assert.Equal(ids.Length * 7, _executions.Where(e => e.Key.StartsWith("Step:", StringComparison.Ordinal)).Sum(e => e.Value));
        Assert.True(Executions("engine:a") > 0 && Executions("engine:b") > 0, $"both engines worked: a={Executions("engine:a")}, b={Executions("engine:b")}");
    }
}
