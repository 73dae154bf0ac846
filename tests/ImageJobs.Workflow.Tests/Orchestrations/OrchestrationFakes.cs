using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageJobs.Testing;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using ImageJobs.Workflow.Provider;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Workflow.Tests.Orchestrations;

/// <summary>One call a <see cref="ScriptedActivity{TIn, TOut}"/> received: its 0-based index, its input, and when it started.</summary>
internal sealed record ActivityCall<TIn>(int Index, TIn Input, DateTimeOffset At);

/// <summary>
/// A fake activity registered under a real activity's name: every call is recorded (after its input went through the
/// worker's data converter) and answered by <see cref="Script"/>, given the input and the call's 0-based index.
/// </summary>
internal sealed class ScriptedActivity<TIn, TOut>(string name, Func<TIn, int, Task<TOut>> script)
{
    private readonly ConcurrentQueue<ActivityCall<TIn>> _calls = new();
    private int _count;

    public string Name { get; } = name;

    public Func<TIn, int, Task<TOut>> Script { get; set; } = script;

    public int Count => Volatile.Read(ref _count);

    public IReadOnlyList<ActivityCall<TIn>> Calls => [.. _calls.OrderBy(c => c.Index)];

    public void Answer(Func<TIn, int, TOut> answer) => Script = (input, index) => Task.FromResult(answer(input, index));

    /// <summary>What the real activity does before its work that the orchestration relies on (the default: nothing).</summary>
    public Func<TIn, Task>? Before { get; init; }

    public void Register(DurableTaskRegistry registry) => registry.AddActivityFunc<TIn, TOut>(Name, async (_, input) =>
    {
        if (Before is not null)
        {
            await Before(input);
        }

        return await InvokeAsync(input);
    });

    /// <summary>Waits until at least <paramref name="count"/> calls have started.</summary>
    public async Task WaitForCallsAsync(int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? OrchestrationHarness.Patience);
        while (Count < count)
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"{Name} was called {Count} time(s); expected at least {count}.");
            }

            await Task.Delay(10);
        }
    }

    private Task<TOut> InvokeAsync(TIn input)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        _calls.Enqueue(new ActivityCall<TIn>(index, input, DateTimeOffset.UtcNow));
        return Script(input, index);
    }
}

/// <summary>
/// Scripted fakes for every activity of <see cref="ImageJobOrchestrator"/>, with defaults that make a job succeed at
/// the first poll: submit gives <see cref="TaskId"/>, the task has <see cref="DefaultResults"/> images, every download
/// is stored and every delivery succeeds. Tests replace the scripts they care about.
/// </summary>
internal sealed class WorkflowFakes
{
    public const string TaskId = "task-1";

    /// <summary>The name of a small orchestrator that waits for one external event (its input is the event name) and returns it.</summary>
    public const string WaiterName = "CompletionWaiter";

    public const int DefaultResults = 2;

    /// <summary>A model running 10–50 ms: polls come milliseconds apart.</summary>
    public static readonly DurationWindow TinyWindow = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50));

    /// <summary>A 10 ms rate window: the poll schedule's 1.5 s minimum lag becomes 15 ms.</summary>
    public const double TinyRateWindow = 0.01;

    public ScriptedActivity<SubmitRequest, SubmitOutcome> Submit { get; } =
        new(nameof(SubmitTaskActivity), (_, _) => Task.FromResult(Submitted()));

    /// <summary>The status query; like <see cref="GetTaskActivity"/>, it first waits for the query's planned time (at most
    /// <see cref="DurableTimers.Granularity"/>), which the orchestration leaves to it.</summary>
    public ScriptedActivity<TaskQuery, TaskSnapshot> GetTask { get; } =
        new(nameof(GetTaskActivity), (_, _) => Task.FromResult(Succeeded(DefaultResults))) { Before = WaitForPlannedTimeAsync };

    public ScriptedActivity<TaskQuery, bool> CancelTask { get; } = new(nameof(CancelTaskActivity), (_, _) => Task.FromResult(true));

    public ScriptedActivity<DownloadRequest, JobImage> Download { get; } =
        new(nameof(DownloadImageActivity), (request, _) => Task.FromResult(Stored(request)));

    public ScriptedActivity<CompletionDelivery, bool> WriteManifest { get; } = new(nameof(WriteManifestActivity), (_, _) => Task.FromResult(true));

    public ScriptedActivity<CompletionDelivery, bool> Webhook { get; } = new(nameof(SendWebhookActivity), (_, _) => Task.FromResult(true));

    public ScriptedActivity<CompletionDelivery, bool> Queue { get; } =
        new(nameof(SendCompletionQueueMessageActivity), (_, _) => Task.FromResult(true));

    private static Task WaitForPlannedTimeAsync(TaskQuery query)
    {
        var latest = DateTimeOffset.UtcNow + DurableTimers.Granularity;
        return query.NotBefore is { } notBefore ? TimeProvider.System.DelayUntilAsync(notBefore < latest ? notBefore : latest) : Task.CompletedTask;
    }

    /// <summary>The real orchestrator, these fakes under the real activity names, and the event waiter.</summary>
    public void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<ImageJobOrchestrator>();
        Submit.Register(registry);
        GetTask.Register(registry);
        CancelTask.Register(registry);
        Download.Register(registry);
        WriteManifest.Register(registry);
        Webhook.Register(registry);
        Queue.Register(registry);
        registry.AddOrchestratorFunc<string, JsonElement>(WaiterName, (context, eventName) => context.WaitForExternalEvent<JsonElement>(eventName));
    }

    public static SubmitOutcome Submitted(string taskId = TaskId, DurationWindow? window = null, double rateWindow = TinyRateWindow) =>
        new(taskId, Reused: false, Error: null, Retryable: false, RetryAfter: null, window ?? TinyWindow) { RateWindowScale = rateWindow };

    public static SubmitOutcome Refused(JobError error, bool retryable, TimeSpan? retryAfter = null) =>
        new(null, Reused: false, error, retryable, retryAfter, TinyWindow) { RateWindowScale = TinyRateWindow };

    /// <summary>What <see cref="SubmitTaskActivity"/> answers when the model's submit slot is later: come back at <paramref name="slot"/>.</summary>
    public static SubmitOutcome Paced(DateTimeOffset slot) =>
        new(null, Reused: false, Error: null, Retryable: false, RetryAfter: null, TinyWindow)
        {
            ReservedSlot = slot,
            RateWindowScale = TinyRateWindow,
        };

    public static TaskSnapshot Pending() => new("PENDING", null, null, null, [], TinyWindow, ActiveJobs: 1);

    public static TaskSnapshot Running() => new("RUNNING", DateTimeOffset.UtcNow, null, null, [], TinyWindow, ActiveJobs: 1);

    public static TaskSnapshot Succeeded(int images) =>
        Succeeded([.. Enumerable.Range(0, images).Select(i => new TaskResultItem(ResultUrl(i), null, "a cat", $"a cat, picture {i}"))]);

    public static TaskSnapshot Succeeded(IReadOnlyList<TaskResultItem> results) =>
        new("SUCCEEDED", DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow, null, results, TinyWindow, ActiveJobs: 1);

    public static TaskSnapshot ProviderFailed(JobError error) =>
        new("FAILED", DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow, error, [], TinyWindow, ActiveJobs: 1);

    public static string ResultUrl(int index) => $"https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/{TaskId}/{index}.png";

    /// <summary>The image a download of <paramref name="request"/> stores (its blob name and container come from the request).</summary>
    public static JobImage Stored(DownloadRequest request) =>
        new(request.Index, request.Output.Container, request.Output.ImageBlobName(request.JobId, request.Index), 1000 + request.Index,
            new string('a', 64), "image/png", 1024, 1024, null);
}

/// <summary>Real <see cref="ImageJob"/> values, built by <see cref="ImageJobParser"/> from the public JSON contract.</summary>
internal static class TestJobs
{
    public const string Container = "results";
    public const string Prefix = "tests/";
    public const long Seed = 42;

    /// <summary>A wanx-v1 job asking for <paramref name="n"/> images with seed <see cref="Seed"/>.</summary>
    public static ImageJob Create(string jobId, JsonObject? notify = null, double? timeoutSeconds = null, int n = 2)
    {
        var body = new JsonObject
        {
            ["jobId"] = jobId,
            ["model"] = "wanx-v1",
            ["input"] = new JsonObject { ["prompt"] = "a cat" },
            ["parameters"] = new JsonObject { ["n"] = n, ["seed"] = Seed },
            ["output"] = new JsonObject { ["container"] = Container, ["prefix"] = Prefix },
        };
        if (notify is not null)
        {
            body["notify"] = notify;
        }

        if (timeoutSeconds is { } seconds)
        {
            body["timeout"] = seconds;
        }

        var errors = ImageJobParser.TryParse(body, "default-job", out var job);
        Assert.Empty(errors);
        return job!;
    }
}

/// <summary>
/// A <see cref="DurableTaskTestHost"/> (in-memory backend, gRPC sidecar in process) running the real
/// <see cref="ImageJobOrchestrator"/> over <see cref="WorkflowFakes"/>, with the app's data converter: a
/// <see cref="JsonDataConverter"/> over <see cref="DurableJson.Options"/>, registered as the <see cref="DataConverter"/>
/// service, which both the worker and the client pick up when their options do not set one.
/// </summary>
internal sealed class OrchestrationHarness : IAsyncDisposable
{
    /// <summary>How long any single wait in these tests may take before it fails the test instead of hanging it.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly DurableTaskTestHost _host;

    private OrchestrationHarness(DurableTaskTestHost host, WorkflowFakes fakes)
    {
        _host = host;
        Fakes = fakes;
    }

    public WorkflowFakes Fakes { get; }

    public DurableTaskClient Client => _host.Client;

    public static async Task<OrchestrationHarness> StartAsync(WorkflowFakes fakes)
    {
        var host = await DurableTaskTestHost.StartAsync(fakes.Register, new DurableTaskTestHostOptions
        {
            Port = FreePort.Next(),
            ConfigureServices = services => services.AddSingleton<DataConverter>(new JsonDataConverter(DurableJson.Options)),
        });
        return new OrchestrationHarness(host, fakes);
    }

    public async Task<string> StartJobAsync(ImageJob job) =>
        await Client.ScheduleNewOrchestrationInstanceAsync(nameof(ImageJobOrchestrator), job, new StartOrchestrationOptions(job.JobId));

    public async Task<OrchestrationMetadata> WaitForCompletionAsync(string instanceId)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var metadata = await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, timeout.Token);
        Assert.True(metadata.RuntimeStatus == OrchestrationRuntimeStatus.Completed,
            $"{instanceId} ended {metadata.RuntimeStatus}: {metadata.FailureDetails}");
        return metadata;
    }

    /// <summary>Runs a job to its end; the orchestration itself must complete (every job outcome is a <see cref="JobResult"/>).</summary>
    public async Task<(JobResult Result, OrchestrationMetadata Metadata)> RunJobAsync(ImageJob job)
    {
        var metadata = await WaitForCompletionAsync(await StartJobAsync(job));
        var result = metadata.ReadOutputAs<JobResult>();
        Assert.NotNull(result);
        return (result, metadata);
    }

    public async Task<JobProgress?> GetProgressAsync(string instanceId)
    {
        var metadata = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        return metadata?.ReadCustomStatusAs<JobProgress>();
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();
}
