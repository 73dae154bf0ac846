using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Testing;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Orchestrations;
using ImageJobs.Workflow.Provider;
using ImageJobs.Workflow.Storage;

namespace ImageJobs.Workflow.Tests;

/// <summary>
/// <see cref="GetTaskActivity"/> and <see cref="TaskQuery.NotBefore"/>, against the emulator on Azurite: the query waits
/// for the planned time that a whole-second durable timer woke early for, and never longer than such a timer can be early.
/// </summary>
public sealed class GetTaskActivityTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>The system clock, recording every delay asked of it; a delay over a minute fails at once instead of hanging.</summary>
    private sealed class RecordingTime : TimeProvider
    {
        public ConcurrentQueue<TimeSpan> Delays { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Delays.Enqueue(dueTime);
            return dueTime > TimeSpan.FromMinutes(1)
                ? throw new InvalidOperationException($"Asked to wait {dueTime}.")
                : System.CreateTimer(callback, state, dueTime, period);
        }
    }

    private async Task<(GetTaskActivity Activity, RecordingTime Time, DashScopeEmulatorHost Emulator, string TaskId)> StartAsync()
    {
        var emulator = await DashScopeEmulator.StartAsync();
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        var options = new ImageJobsOptions { StateContainer = "state-" + Guid.NewGuid().ToString("N")[..8] };
        var state = new JobStateStore(blobs, options);
        var client = new DashScopeClient(new HttpClient(), new DashScopeClientOptions { Endpoint = emulator.BaseAddress, ApiKey = "sk-test" });
        var submitted = await client.SubmitAsync(new WanxTextToImageRequest("cat") { N = 1 });
        var time = new RecordingTime();
        var activity = new GetTaskActivity(client, new DurationLearning(state, options, TimeProvider.System), new ActivePollers(TimeProvider.System),
            new ProviderPacing(state, TimeProvider.System, options), time);
        return (activity, time, emulator, submitted.TaskId);
    }

    [Fact]
    public async Task Run_NotBeforeAFractionOfASecondAhead_QueriesNoEarlierThanThat()
    {
        var (activity, time, emulator, taskId) = await StartAsync();
        await using var _ = emulator;
        var notBefore = DateTimeOffset.UtcNow.AddMilliseconds(400);

        var snapshot = await activity.RunAsync(new TaskQuery("job-1", DashScopeModels.WanxV1, taskId, notBefore), CancellationToken.None);

        Assert.True(DateTimeOffset.UtcNow >= notBefore, "The activity returned before the planned poll time.");
        Assert.NotNull(snapshot.Status);
        Assert.Equal(1, emulator.Stats.Snapshot().QueriesByTask[taskId]);
        Assert.InRange(time.Delays.First(), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public async Task Run_NotBeforeFarAheadOrPast_WaitsAtMostTheTimerGranularity_OrNotAtAll()
    {
        var (activity, time, emulator, taskId) = await StartAsync();
        await using var _ = emulator;

        // A planned time an hour ahead cannot come from a timer that woke early: the wait is capped, not an hour.
        await activity.RunAsync(new TaskQuery("job-2", DashScopeModels.WanxV1, taskId, DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);
        Assert.InRange(time.Delays.First(), DurableTimers.Granularity - TimeSpan.FromMilliseconds(50), DurableTimers.Granularity);
        Assert.All(time.Delays, delay => Assert.True(delay <= DurableTimers.Granularity, $"Waited {delay}."));

        // A retry after the planned time, or a query with none, queries at once.
        var delays = time.Delays.Count;
        await activity.RunAsync(new TaskQuery("job-2", DashScopeModels.WanxV1, taskId, DateTimeOffset.UtcNow.AddSeconds(-5)), CancellationToken.None);
        await activity.RunAsync(new TaskQuery("job-2", DashScopeModels.WanxV1, taskId), CancellationToken.None);
        Assert.Equal(delays, time.Delays.Count);
        Assert.Equal(3, emulator.Stats.Snapshot().QueriesByTask[taskId]);
    }
}
