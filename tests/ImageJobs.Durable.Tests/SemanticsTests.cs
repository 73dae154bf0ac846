using System.Collections.Concurrent;
using ImageJobs.Durable.Model;
using ImageJobs.Durable.Replay;
using ImageJobs.Durable.Storage;
using ImageJobs.Testing;
using ImageJobs.Workflow.Durable;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Durable.Tests;

/// <summary>More semantics on the in-memory store.</summary>
public sealed class SemanticsTests : EngineTestBase
{
    private readonly InMemoryDurableStore _store = new();
    private readonly ConcurrentDictionary<string, int> _executions = new();

    protected override IDurableStore CreateStore() => _store;

    private int Executions(string key) => _executions.GetValueOrDefault(key);

    private void Count(string key) => _executions.AddOrUpdate(key, 1, (_, n) => n + 1);

    [Theory]
    [InlineData("timeout", 3)]
    [InlineData("argument", 1)]
    public async Task CallActivityAsync_FailureFilter_RetriesOnlyHandledFailures(string kind, int expectedAttempts)
    {
        var policy = new ActivityRetryPolicy(3, TimeSpan.FromMilliseconds(20)) { HandleFailure = f => f.IsCausedBy<TimeoutException>() };
        var engine = await StartEngineAsync(b => b
            .AddActivity<string, string>("Flaky", (k, _) =>
            {
                Count("Flaky");
                throw k == "timeout" ? new TimeoutException("slow") : new ArgumentException("bad");
            })
            .AddOrchestration<string, string>("Filtered", async (ctx, k) =>
            {
                try
                {
                    return await ctx.CallActivityAsync<string>("Flaky", k, policy);
                }
                catch (OrchestrationTaskFailedException ex)
                {
                    return ex.FailureDetails.ErrorType;
                }
            }));

        var done = await WaitForCompletionAsync(engine.Client, await engine.Client.ScheduleNewOrchestrationInstanceAsync("Filtered", kind));

        Assert.Equal(expectedAttempts, Executions("Flaky"));
        Assert.Equal(kind == "timeout" ? typeof(TimeoutException).FullName : typeof(ArgumentException).FullName, done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task CallActivityAsync_RetrySucceedsOnThirdAttempt_ReturnsResult()
    {
        var engine = await StartEngineAsync(b => b
            .AddActivity<int, int>("ThirdTime", (x, _) =>
            {
                Count("ThirdTime");
                return Executions("ThirdTime") < 3 ? throw new InvalidOperationException("not yet") : Task.FromResult(x * 2);
            })
            .AddOrchestration<int, int>("Retrying", (ctx, x) =>
                ctx.CallActivityAsync<int>("ThirdTime", x, new ActivityRetryPolicy(5, TimeSpan.FromMilliseconds(10)))));

        var done = await WaitForCompletionAsync(engine.Client, await engine.Client.ScheduleNewOrchestrationInstanceAsync("Retrying", 21));

        Assert.Equal(42, done.ReadOutputAs<int>());
        Assert.Equal(3, Executions("ThirdTime"));
    }

    [Fact]
    public void GetRetryDelay_Backoff_GrowsAndIsCapped()
    {
        var policy = new ActivityRetryPolicy(10, TimeSpan.FromSeconds(1), 2, maxRetryInterval: TimeSpan.FromSeconds(5));

        Assert.Equal(
            [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5)],
            Enumerable.Range(1, 4).Select(policy.GetRetryDelay).ToArray());
    }

    private static Task<string> RaceAsync(IOrchestrationContext ctx, TimeSpan timeout) => RaceCoreAsync(ctx, timeout);

    private static async Task<string> RaceCoreAsync(IOrchestrationContext ctx, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource();
        var timer = ctx.CreateTimer(timeout, cts.Token);
        var approval = ctx.WaitForExternalEvent<string>("Approve", cts.Token);
        var winner = await Task.WhenAny(timer, approval);
        cts.Cancel(); // Not CancelAsync: that runs the callbacks on the thread pool, outside the orchestration's thread.
        return winner == approval
            ? $"event:{approval.Result}|timerCanceled={timer.IsCanceled}"
            : $"timeout|eventCanceled={approval.IsCanceled}";
    }

    [Fact]
    public async Task WhenAny_EventBeforeTimer_EventWinsAndTimerIsCanceledAndDropped()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, string>("Race", (ctx, _) => RaceAsync(ctx, TimeSpan.FromMinutes(30))));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Race", 0);
        await WaitUntilAsync(async () => (await engine.GetRecordAsync(id))?.Timers.Count == 1, "the timer is created");

        await engine.Client.RaiseEventAsync(id, "approve", "yes");
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal("event:yes|timerCanceled=True", done.ReadOutputAs<string>());
        Assert.Empty((await engine.GetRecordAsync(id))!.Timers);
    }

    [Fact]
    public async Task WhenAny_TimerBeforeEvent_TimerWinsAndLateEventIsDropped()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, string>("Race", (ctx, _) => RaceAsync(ctx, TimeSpan.FromMilliseconds(100))));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Race", 0);

        var done = await WaitForCompletionAsync(engine.Client, id);
        await engine.Client.RaiseEventAsync(id, "Approve", "late");
        await engine.WaitForIdleAsync(CancellationToken.None);

        Assert.Equal("timeout|eventCanceled=True", done.ReadOutputAs<string>());
        var record = (await engine.GetRecordAsync(id))!;
        Assert.Equal(OrchestrationStatus.Completed, record.Status);
        Assert.Empty(record.Inbox);
        Assert.DoesNotContain(record.History, e => e.Kind == EventKind.EventRaised);
    }

    [Fact]
    public async Task SetCustomStatus_WhileRunning_IsVisibleToClient()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, int>("Status", async (ctx, _) =>
        {
            ctx.SetCustomStatus(new { step = "waiting", progress = 50 });
            await ctx.WaitForExternalEvent<int>("go");
            ctx.SetCustomStatus(new { step = "done", progress = 100 });
            return 1;
        }));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Status", 0);

        await WaitUntilAsync(async () => (await engine.Client.GetInstanceAsync(id, true))?.SerializedCustomStatus is not null, "a custom status appears");
        var running = (await engine.Client.GetInstanceAsync(id, true))!;
        await engine.Client.RaiseEventAsync(id, "go", 1);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Running, running.RuntimeStatus);
        Assert.Equal("""{"step":"waiting","progress":50}""", running.SerializedCustomStatus);
        Assert.Equal("""{"step":"done","progress":100}""", done.SerializedCustomStatus);
    }

    [Fact]
    public async Task SuspendInstanceAsync_EventWhileSuspended_IsHeldUntilResume()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, string>("Suspendable", async (ctx, _) =>
            await ctx.WaitForExternalEvent<string>("go")));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Suspendable", 0);
        await WaitUntilAsync(async () => (await engine.Client.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationStatus.Running, "it runs");

        await engine.Client.SuspendInstanceAsync(id, "maintenance");
        await WaitUntilAsync(async () => (await engine.Client.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationStatus.Suspended, "it is suspended");
        await engine.Client.RaiseEventAsync(id, "go", "after resume");
        await engine.WaitForIdleAsync(CancellationToken.None);
        var whileSuspended = (await engine.GetRecordAsync(id))!;
        await engine.Client.ResumeInstanceAsync(id);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Suspended, whileSuspended.Status);
        Assert.Single(whileSuspended.Inbox, e => e.Kind == EventKind.EventRaised);
        Assert.Equal("after resume", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task PurgeInstanceAsync_CompletedAndRunning_PurgesOnlyCompleted()
    {
        var engine = await StartEngineAsync(b => b
            .AddOrchestration<int, int>("Quick", (_, x) => Task.FromResult(x))
            .AddOrchestration<int, int>("Waits", async (ctx, _) => await ctx.WaitForExternalEvent<int>("never")));
        var quick = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Quick", 1);
        var waits = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Waits", 1);
        await WaitForCompletionAsync(engine.Client, quick);
        await WaitUntilAsync(async () => (await engine.Client.GetInstanceAsync(waits))?.RuntimeStatus == OrchestrationStatus.Running, "it runs");

        Assert.Equal(1, await engine.Client.PurgeInstanceAsync(quick));
        Assert.Equal(0, await engine.Client.PurgeInstanceAsync(waits));
        Assert.Null(await engine.Client.GetInstanceAsync(quick));
        Assert.NotNull(await engine.Client.GetInstanceAsync(waits));
        Assert.Equal(0, await engine.Client.PurgeInstanceAsync(quick));
    }

    [Fact]
    public async Task QueryInstancesAsync_StatusPrefixTimeAndPages_ReturnsMatchesInPages()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var engine = await StartEngineAsync(b => b
            .AddOrchestration<int, int>("Quick", (_, x) => Task.FromResult(x))
            .AddOrchestration<int, int>("Waits", async (ctx, _) => await ctx.WaitForExternalEvent<int>("never")), time: time);
        for (var i = 0; i < 12; i++)
        {
            await engine.Client.ScheduleNewOrchestrationInstanceAsync(i % 2 == 0 ? "Quick" : "Waits", i, new ScheduleOrchestrationOptions($"q-{i:D2}"));
        }

        time.Advance(TimeSpan.FromMinutes(5));
        var secondBatchFrom = time.GetUtcNow();
        for (var i = 12; i < 25; i++)
        {
            await engine.Client.ScheduleNewOrchestrationInstanceAsync("Quick", i, new ScheduleOrchestrationOptions($"q-{i:D2}"));
        }

        await engine.Client.ScheduleNewOrchestrationInstanceAsync("Quick", 0, new ScheduleOrchestrationOptions("other-1"));
        await engine.WaitForIdleAsync(CancellationToken.None);

        var pages = new List<OrchestrationQueryPage>();
        var query = new OrchestrationInstanceQuery { InstanceIdPrefix = "q-", PageSize = 10 };
        do
        {
            pages.Add(await engine.Client.QueryInstancesAsync(query));
            query = query with { ContinuationToken = pages[^1].ContinuationToken };
        }
        while (pages[^1].ContinuationToken is not null);

        Assert.Equal([10, 10, 5], pages.Select(p => p.Instances.Count).ToArray());
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"q-{i:D2}"), pages.SelectMany(p => p.Instances).Select(i => i.InstanceId));
        var running = await engine.Client.GetAllInstancesAsync(new OrchestrationInstanceQuery { Statuses = [OrchestrationStatus.Running], PageSize = 4 }).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"q-{(i * 2) + 1:D2}"), running.Select(i => i.InstanceId));
        var recent = await engine.Client.GetAllInstancesAsync(new OrchestrationInstanceQuery { CreatedFrom = secondBatchFrom, InstanceIdPrefix = "q-" }).ToListAsync();
        Assert.Equal(13, recent.Count);
        var withOutputs = await engine.Client.QueryInstancesAsync(new OrchestrationInstanceQuery { InstanceIdPrefix = "q-24", FetchInputsAndOutputs = true });
        Assert.Equal(24, Assert.Single(withOutputs.Instances).ReadOutputAs<int>());
    }

    [Fact]
    public async Task NewGuid_AcrossReplays_IsDeterministicAndUnique()
    {
        var engine = await StartEngineAsync(b => b
            .AddActivity<string, string>("Echo", (x, _) => Task.FromResult(x))
            .AddOrchestration<int, string[]>("Guids", async (ctx, _) =>
            {
                var first = ctx.NewGuid().ToString();
                var echoed = await ctx.CallActivityAsync<string>("Echo", first);
                var second = ctx.NewGuid().ToString();
                return [first, echoed, second];
            }));

        var done = await WaitForCompletionAsync(engine.Client, await engine.Client.ScheduleNewOrchestrationInstanceAsync("Guids", 0));
        var guids = done.ReadOutputAs<string[]>()!;

        Assert.Equal(guids[0], guids[1]);
        Assert.NotEqual(guids[0], guids[2]);
        Assert.Equal('5', guids[0][14]);
    }

    [Fact]
    public void DeterministicGuid_KnownName_MatchesRfc4122Version5()
    {
        // Reference value from Python: uuid.uuid5(UUID("9e952958-5e33-4daf-827f-2fa12937b875"), "abc_2026-01-01T00:00:00.0000000Z_0").
        var expected = Guid.Parse("120344a5-52ef-5c4c-8ffc-0e4fcc02f1bb");

        Assert.Equal(expected, DeterministicGuid.Create(DeterministicGuid.DurableNamespace, "abc_2026-01-01T00:00:00.0000000Z_0"));
    }

    [Fact]
    public void FromHostJson_DurableTaskSection_ReadsHubConcurrencyPollingAndDevelopmentStorage()
    {
        var path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {
              "version": "2.0",
              // comments are allowed, as in real host.json files
              "extensions": {
                "durableTask": {
                  "hubName": "ImageJobsHub",
                  "maxConcurrentActivityFunctions": 12,
                  "maxConcurrentOrchestratorFunctions": 5,
                  "storageProvider": { "connectionName": "MyStorage", "maxQueuePollingInterval": "00:00:07" }
                }
              }
            }
            """);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Values:MyStorage"] = "UseDevelopmentStorage=true" })
            .Build();

        try
        {
            var options = DurableEngineOptions.FromHostJson(path, configuration);

            Assert.Equal("ImageJobsHub", options.HubName);
            Assert.Equal(12, options.MaxConcurrentActivityFunctions);
            Assert.Equal(5, options.MaxConcurrentOrchestratorFunctions);
            Assert.Equal(TimeSpan.FromSeconds(7), options.InstancePollingInterval);
            Assert.Equal(DurableEngineOptions.DevelopmentStorageConnectionString, options.StorageConnectionString);
            Assert.Equal("imagejobshub-instances", BlobDurableStore.ContainerName(options.HubName));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FromHostJson_RepositoryHostJson_ReadsAValidConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" })
            .Build();

        var options = DurableEngineOptions.FromHostJson(RepoPaths.Combine("host.json"), configuration);

        options.Validate();
        Assert.Equal(DurableEngineOptions.DevelopmentStorageConnectionString, options.StorageConnectionString);
    }

    [Fact]
    public async Task AddDurableEngine_ActivityAndOrchestrationClasses_ResolvedFromServices()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new Greeting("Hello"));
#pragma warning disable CA2263 // The Type overload is what hosts use with a catalog of workflow types; it is under test here.
        services.AddDurableEngine(b => b
            .UseStore(_store)
            .Configure(o => o.HubName = HubName)
            .AddActivity(GreetActivity.Name, typeof(GreetActivity))
            .AddOrchestration<GreetOrchestration>(GreetOrchestration.Name));
#pragma warning restore CA2263
        await using var provider = services.BuildServiceProvider();
        await using var engine = provider.GetRequiredService<DurableEngine>();
        await engine.StartAsync();
        var client = provider.GetRequiredService<IOrchestrationClient>();

        var done = await WaitForCompletionAsync(client, await client.ScheduleNewOrchestrationInstanceAsync(GreetOrchestration.Name, new GreetInput("Ada")));

        Assert.Equal(new GreetOutput("Hello, Ada!"), done.ReadOutputAs<GreetOutput>());
    }

    [Fact]
    public async Task CreateReplaySafeLogger_AcrossReplays_LogsEachLineOnce()
    {
        var lines = new ConcurrentQueue<string>();
        var engine = await StartEngineAsync(b => b
            .UseLoggerFactory(new ListLoggerFactory(lines))
            .AddActivity<int, int>("Same", (x, _) => Task.FromResult(x))
            .AddOrchestration<int, int>("Logs", async (ctx, x) =>
            {
                var log = ctx.CreateReplaySafeLogger("Workflow");
                for (var i = 0; i < 3; i++)
                {
#pragma warning disable CA1873 // The point is to log during replay.
                    Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(log, "step {Step}", i);
#pragma warning restore CA1873
                    x = await ctx.CallActivityAsync<int>("Same", x);
                }

                return x;
            }));

        await WaitForCompletionAsync(engine.Client, await engine.Client.ScheduleNewOrchestrationInstanceAsync("Logs", 1));

        Assert.Equal(["step 0", "step 1", "step 2"], lines.Where(l => l.StartsWith("step", StringComparison.Ordinal)).ToArray());
    }

    [Fact]
    public async Task SendEvent_ToAnotherInstance_IsDelivered()
    {
        var engine = await StartEngineAsync(b => b
            .AddOrchestration<int, string>("Receiver", async (ctx, _) => await ctx.WaitForExternalEvent<string>("ping"))
            .AddOrchestration<string, int>("Sender", (ctx, target) =>
            {
                ctx.SendEvent(target, "ping", "from sender");
                return Task.FromResult(0);
            }));
        var receiver = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Receiver", 0);
        await engine.Client.ScheduleNewOrchestrationInstanceAsync("Sender", receiver);

        var done = await WaitForCompletionAsync(engine.Client, receiver);

        Assert.Equal("from sender", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ContinueAsNew_EventsArrivingInOneBatch_AreCarriedIntoTheNextExecution()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<string[], string[]>("Collector", async (ctx, items) =>
        {
            var item = await ctx.WaitForExternalEvent<string>("item");
            string[] all = [.. items, item];
            if (all.Length < 3)
            {
                ctx.ContinueAsNew(all);
            }

            return all;
        }));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Collector", Array.Empty<string>());
        await engine.Client.SuspendInstanceAsync(id);
        foreach (var item in new[] { "a", "b", "c" })
        {
            await engine.Client.RaiseEventAsync(id, "item", item);
        }

        await engine.Client.ResumeInstanceAsync(id);
        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(["a", "b", "c"], done.ReadOutputAs<string[]>()!);
    }

    [Fact]
    public async Task RaiseEventAsync_BeforeScheduledStart_StaysPendingAndIsDeliveredAfterStart()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, string>("LaterWithEvent", async (ctx, _) =>
            await ctx.WaitForExternalEvent<string>("early")));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("LaterWithEvent", 0, new ScheduleOrchestrationOptions(StartAt: DateTimeOffset.UtcNow.AddSeconds(2)));
        await engine.Client.RaiseEventAsync(id, "early", "kept");
        await engine.WaitForIdleAsync(CancellationToken.None);
        var before = (await engine.Client.GetInstanceAsync(id))!.RuntimeStatus;

        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Pending, before);
        Assert.Equal("kept", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Orchestrator_AwaitsNonDurableTask_FailsWithClearMessage()
    {
        var foreign = new TaskCompletionSource<int>();
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, int>("AwaitsForeign", async (_, _) => await foreign.Task));

        var done = await WaitForCompletionAsync(engine.Client, await engine.Client.ScheduleNewOrchestrationInstanceAsync("AwaitsForeign", 0));

        Assert.Equal(OrchestrationStatus.Failed, done.RuntimeStatus);
        Assert.Contains("not a durable task", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScheduleNewOrchestrationInstanceAsync_StartAtInFuture_StaysPendingUntilThen()
    {
        var engine = await StartEngineAsync(b => b.AddOrchestration<int, int>("Later", (_, x) => Task.FromResult(x)));
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync("Later", 3, new ScheduleOrchestrationOptions(StartAt: DateTimeOffset.UtcNow.AddSeconds(2)));
        await engine.WaitForIdleAsync(CancellationToken.None);
        var before = (await engine.Client.GetInstanceAsync(id))!.RuntimeStatus;

        var done = await WaitForCompletionAsync(engine.Client, id);

        Assert.Equal(OrchestrationStatus.Pending, before);
        Assert.Equal(3, done.ReadOutputAs<int>());
    }
}

public sealed record Greeting(string Word);

public sealed record GreetInput(string Name);

public sealed record GreetOutput(string Text);

public sealed class GreetActivity(Greeting greeting) : IActivity<GreetInput, GreetOutput>
{
    public const string Name = "Greet";

    public Task<GreetOutput> RunAsync(GreetInput input, CancellationToken cancellationToken) =>
        Task.FromResult(new GreetOutput($"{greeting.Word}, {input.Name}!"));
}

public sealed class GreetOrchestration : IOrchestration<GreetInput, GreetOutput>
{
    public const string Name = "GreetOrchestration";

    public Task<GreetOutput> RunAsync(IOrchestrationContext context, GreetInput input) =>
        context.CallActivityAsync<GreetOutput>(GreetActivity.Name, input);
}

/// <summary>A clock the test moves by hand (timers still use real time).</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

public sealed class ListLoggerFactory(ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILoggerFactory
{
    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
    {
    }

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new ListLogger(lines);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));
    }
}
