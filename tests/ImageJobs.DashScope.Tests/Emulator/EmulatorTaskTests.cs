using System.Net;
using ImageJobs.DashScope.Emulator;
using static ImageJobs.DashScope.Tests.Emulator.EmulatorKit;

namespace ImageJobs.DashScope.Tests.Emulator;

/// <summary>Task rules end to end: cancel, UNKNOWN, FAILED, partial failure, listing, URL expiry and the emulator's counters.</summary>
public class EmulatorTaskTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly DashScopeClient _client = fixture.Client();

    [Fact]
    public async Task Cancel_PendingTaskBehindTheConcurrencyCap_EndsCanceled()
    {
        // Real service durations on a clock that stands still until the test moves it: the first wanx-v1 task keeps
        // the model's single slot (26–31 s), so the second one is PENDING for as long as the test needs.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var emulator = await StartAsync(o => { o.LimitScale = 1; o.TimeScale = 1; }, clock);
        var client = Client(emulator);
        var first = await client.SubmitAsync(new WanxTextToImageRequest("first") { N = 1 });
        var second = await client.SubmitAsync(new WanxTextToImageRequest("second") { N = 1 });
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(DashScopeTaskStatus.Running, (await client.GetTaskAsync(first.TaskId)).Status);
        var waiting = await client.GetTaskAsync(second.TaskId);
        Assert.True(waiting.Status == DashScopeTaskStatus.Pending, $"The second wanx-v1 task should wait behind the first; it is {waiting.Status}.");

        var cancel = await client.CancelTaskAsync(second.TaskId);
        Assert.False(string.IsNullOrEmpty(cancel.RequestId));

        var canceled = await client.GetTaskAsync(second.TaskId);
        Assert.Equal(DashScopeTaskStatus.Canceled, canceled.Status);
        Assert.True(canceled.Status.IsTerminal);
        Assert.NotNull(canceled.EndTime);
        Assert.Empty(canceled.Results);
        Assert.Null(canceled.Usage);

        // Canceling again: no longer PENDING.
        AssertUnsupported(await Assert.ThrowsAsync<DashScopeException>(() => client.CancelTaskAsync(second.TaskId)));

        // The first task finishes normally; the canceled one stays CANCELED and never runs.
        clock.Advance(TimeSpan.FromMinutes(2));
        var done = await client.GetTaskAsync(first.TaskId);
        Assert.Equal(DashScopeTaskStatus.Succeeded, done.Status);
        await AssertImagesAsync(done.ImageUrls, 1024, 1024);
        Assert.Equal(DashScopeTaskStatus.Canceled, (await client.GetTaskAsync(second.TaskId)).Status);

        var stats = emulator.Stats.Snapshot();
        Assert.Equal(2, stats.CancelRequests);
        Assert.Equal(1, stats.Canceled);
    }

    [Fact]
    public async Task Cancel_RunningTask_Throws400UnsupportedOperation()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var emulator = await StartAsync(o => o.TimeScale = 1, clock); // wan2.5 runs 30 s – 2 min
        var client = Client(emulator);
        var submission = await client.SubmitAsync(new WanImageToImageRequest("add a rainbow", [PngDataUri(400, 400)]) { N = 1 });
        clock.Advance(TimeSpan.FromSeconds(5));

        var task = await client.GetTaskAsync(submission.TaskId);
        Assert.True(task.Status == DashScopeTaskStatus.Running, $"Expected RUNNING, got {task.Status}.");
        Assert.NotNull(task.ScheduledTime);
        Assert.Null(task.EndTime);
        Assert.Empty(task.Results);
        Assert.Null(task.Usage);
        Assert.Equal((1, 0, 0), (task.Metrics!.Total, task.Metrics.Succeeded, task.Metrics.Failed));

        AssertUnsupported(await Assert.ThrowsAsync<DashScopeException>(() => client.CancelTaskAsync(submission.TaskId)));

        clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(DashScopeTaskStatus.Succeeded, (await client.GetTaskAsync(submission.TaskId)).Status);
        Assert.Equal(0, emulator.Stats.Snapshot().Canceled);
    }

    [Fact]
    public async Task Cancel_SucceededTask_Throws400UnsupportedOperation()
    {
        var task = await RunToSuccessAsync(_client, new QwenImageRequest("a finished task"));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => _client.CancelTaskAsync(task.TaskId));
        AssertUnsupported(ex);
        Assert.Equal(DashScopeTaskStatus.Succeeded, (await _client.GetTaskAsync(task.TaskId)).Status);
    }

    [Fact]
    public async Task GetTask_UnknownId_ReturnsUnknownWithoutThrowing()
    {
        var id = Guid.NewGuid().ToString();
        var task = await _client.GetTaskAsync(id);
        Assert.Equal(DashScopeTaskStatus.Unknown, task.Status);
        Assert.True(task.Status.IsTerminal);
        Assert.Equal(id, task.TaskId);
        Assert.Empty(task.Results);
        Assert.Null(task.Code);
        Assert.False(string.IsNullOrEmpty(task.RequestId));

        // Canceling an unknown task is refused like any non-PENDING one.
        AssertUnsupported(await Assert.ThrowsAsync<DashScopeException>(() => _client.CancelTaskAsync(id)));
    }

    [Fact]
    public async Task TaskFailure_Injected_EndsFailedWithInternalErrorTimeout()
    {
        await using var emulator = await StartAsync(o => o.TaskFailureRate = 1);
        var client = Client(emulator);
        var submission = await client.SubmitAsync(new WanxTextToImageRequest("doomed") { N = 2 });
        Assert.Equal(DashScopeTaskStatus.Pending, submission.Status);

        var result = await PollUntilTerminalAsync(client, submission.TaskId);
        AssertLifecycle(result.StatusesSeen);
        var task = result.Task;
        Assert.Equal(DashScopeTaskStatus.Failed, task.Status);
        Assert.Equal(DashScopeErrorCodes.InternalErrorTimeout, task.Code);
        Assert.False(string.IsNullOrEmpty(task.Message));
        Assert.True(DashScopeException.IsRetryableError(0, task.Code, task.Message));
        Assert.Empty(task.Results);
        Assert.Empty(task.ImageUrls);
        Assert.Null(task.Usage);
        Assert.Equal((2, 0, 2), (task.Metrics!.Total, task.Metrics.Succeeded, task.Metrics.Failed));
    }

    [Fact]
    public async Task WanxV1_UndocumentedSize_ValidationOff_AcceptedThenFailedInvalidParameter()
    {
        var request = new WanxTextToImageRequest("a square cat") { Size = "512*512", N = 4 };
        await Assert.ThrowsAsync<DashScopeValidationException>(() => _client.SubmitAsync(request));

        var client = fixture.Client(o => o.ValidateRequests = false);
        var submission = await client.SubmitAsync(request);
        Assert.Equal(DashScopeTaskStatus.Pending, submission.Status);

        var task = (await PollUntilTerminalAsync(client, submission.TaskId)).Task;
        Assert.Equal(DashScopeTaskStatus.Failed, task.Status);
        Assert.Equal(DashScopeErrorCodes.InvalidParameter, task.Code);
        Assert.Contains("The size is not match the allowed size", task.Message, StringComparison.Ordinal);
        Assert.False(DashScopeException.IsRetryableError(0, task.Code, task.Message));
        Assert.Null(task.Usage);
        Assert.Equal((4, 0, 4), (task.Metrics!.Total, task.Metrics.Succeeded, task.Metrics.Failed));
    }

    [Fact]
    public async Task PartialFailure_MixesUrlsAndPerImageErrors_UsageCountsSuccesses()
    {
        await using var emulator = await StartAsync(o =>
        {
            o.ImageFailureRate = 0.5;
            o.Seed = 20240601;
            o.EnableLimits = false;
        });
        var client = Client(emulator);

        DashScopeTask? mixed = null;
        for (var attempt = 0; attempt < 20 && mixed is null; attempt++)
        {
            var submission = await client.SubmitAsync(new WanxTextToImageRequest("four attempts") { N = 4, Size = WanxSizes.Landscape1280x720 });
            var task = (await PollUntilTerminalAsync(client, submission.TaskId)).Task;
            var successes = task.Results.Count(r => r.IsSuccess);
            if (task.Status == DashScopeTaskStatus.Succeeded && successes is > 0 and < 4)
            {
                mixed = task;
            }
        }

        Assert.True(mixed is not null, "No task mixed successes and failures in 20 attempts at ImageFailureRate 0.5.");
        Assert.Equal(4, mixed.Results.Count);
        var ok = mixed.Results.Where(r => r.IsSuccess).ToList();
        var failed = mixed.Results.Where(r => !r.IsSuccess).ToList();
        Assert.All(failed, r =>
        {
            Assert.Null(r.Url);
            Assert.Contains(r.Code, new[] { DashScopeErrorCodes.DataInspectionFailed, DashScopeErrorCodes.InternalErrorTimeout });
            Assert.False(string.IsNullOrEmpty(r.Message));
        });
        Assert.All(ok, r => Assert.Null(r.Code));
        Assert.Equal(ok.Count, mixed.Usage?.ImageCount);
        Assert.Equal((4, ok.Count, failed.Count), (mixed.Metrics!.Total, mixed.Metrics.Succeeded, mixed.Metrics.Failed));
        Assert.Equal(ok.Select(r => r.Url!), mixed.ImageUrls);
        await AssertImagesAsync(mixed.ImageUrls, 1280, 720);
    }

    [Fact]
    public async Task ListTasks_FindsSubmittedTasks_ByIdModelStatusAndWindow()
    {
        var started = DateTimeOffset.UtcNow;
        var qwen = await _client.SubmitAsync(new QwenImageRequest("listed qwen", DashScopeModels.QwenImage));
        var wanx = await _client.SubmitAsync(new WanxTextToImageRequest("listed wanx") { N = 1 });

        var byId = await _client.ListTasksAsync(new DashScopeTaskListQuery { TaskId = qwen.TaskId });
        var row = Assert.Single(byId.Tasks);
        Assert.Equal(1, byId.Total);
        Assert.Equal(qwen.TaskId, row.TaskId);
        Assert.Equal(DashScopeModels.QwenImage, row.ModelName);
        Assert.Equal(qwen.RequestId, row.RequestId);
        Assert.NotNull(row.CreatedTime);
        Assert.InRange(row.CreatedTime.Value, started.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));

        var all = await _client.ListTasksAsync();
        Assert.Contains(all.Tasks, t => t.TaskId == qwen.TaskId);
        Assert.Contains(all.Tasks, t => t.TaskId == wanx.TaskId);

        var byModel = await _client.ListTasksAsync(new DashScopeTaskListQuery { ModelName = DashScopeModels.WanxV1, PageSize = 100 });
        Assert.Contains(byModel.Tasks, t => t.TaskId == wanx.TaskId);
        Assert.All(byModel.Tasks, t => Assert.Equal(DashScopeModels.WanxV1, t.ModelName));

        await PollUntilTerminalAsync(_client, qwen.TaskId);
        await PollUntilTerminalAsync(_client, wanx.TaskId);
        var window = await _client.ListTasksAsync(new DashScopeTaskListQuery
        {
            StartTime = started.AddMinutes(-1),
            EndTime = DateTimeOffset.UtcNow.AddMinutes(1),
            Status = DashScopeTaskStatus.Succeeded,
            PageSize = 100,
        });
        Assert.Contains(window.Tasks, t => t.TaskId == qwen.TaskId);
        Assert.Contains(window.Tasks, t => t.TaskId == wanx.TaskId);
        Assert.All(window.Tasks, t => Assert.Equal(DashScopeTaskStatus.Succeeded, t.Status));
        var finished = window.Tasks.Single(t => t.TaskId == wanx.TaskId);
        Assert.NotNull(finished.StartTime);
        Assert.NotNull(finished.EndTime);

        var before = await _client.ListTasksAsync(new DashScopeTaskListQuery
        {
            StartTime = started.AddHours(-3),
            EndTime = started.AddHours(-2),
        });
        Assert.DoesNotContain(before.Tasks, t => t.TaskId == qwen.TaskId);
    }

    [Fact]
    public async Task ResultUrl_AfterItsTtl_Answers403AccessDenied()
    {
        // 500 s of service time at scale 0.002 = 1 s real; Expires has one-second resolution.
        await using var emulator = await StartAsync(o => o.ResultUrlTtl = TimeSpan.FromSeconds(500));
        var client = Client(emulator);
        var task = await RunToSuccessAsync(client, new QwenImageRequest("short-lived"));
        var url = Assert.Single(task.ImageUrls);
        Assert.Contains("Expires=", url, StringComparison.Ordinal);
        Assert.Contains("Signature=", url, StringComparison.Ordinal);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        HttpStatusCode status;
        string body;
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            using var response = await Http.GetAsync(new Uri(url));
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync();
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.True(status == HttpStatusCode.Forbidden, $"The URL still answered {(int)status} 15 s after a 1 s TTL.");
        Assert.Contains("<Code>AccessDenied</Code>", body, StringComparison.Ordinal);

        // The task itself is still there; only the link expired.
        Assert.Equal(DashScopeTaskStatus.Succeeded, (await client.GetTaskAsync(task.TaskId)).Status);
    }

    [Fact]
    public async Task ResultUrl_Tampered_Answers403SignatureDoesNotMatch()
    {
        var task = await RunToSuccessAsync(_client, new WanxTextToImageRequest("signed") { N = 2 });
        var tampered = task.ImageUrls[0].Replace("/0.png?", "/1.png?", StringComparison.Ordinal);
        using var response = await Http.GetAsync(new Uri(tampered));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertImagesAsync(task.ImageUrls, 1024, 1024); // the genuine URLs still work
    }

    [Fact]
    public async Task Stats_CountWhatTheClientDid()
    {
        await using var emulator = await StartAsync();
        var client = Client(emulator);

        // Refused by client validation: never reaches the emulator.
        await Assert.ThrowsAsync<DashScopeValidationException>(() => client.SubmitAsync(new QwenImageRequest("x") { N = 3 }));
        Assert.Equal(0, emulator.Stats.Snapshot().Submissions);

        var qwen1 = await client.SubmitAsync(new QwenImageRequest("one", DashScopeModels.QwenImage));
        var qwen2 = await client.SubmitAsync(new QwenImageRequest("two", DashScopeModels.QwenImage));
        var wanx = await client.SubmitAsync(new WanxTextToImageRequest("three") { N = 2 });
        var polls = new Dictionary<string, int>();
        var downloads = 0;
        foreach (var id in new[] { qwen1.TaskId, qwen2.TaskId, wanx.TaskId })
        {
            var result = await PollUntilTerminalAsync(client, id);
            polls[id] = result.Polls;
            foreach (var url in result.Task.ImageUrls)
            {
                await DownloadPngAsync(url);
                downloads++;
            }
        }

        await client.GetTaskAsync(wanx.TaskId);
        polls[wanx.TaskId]++;
        await Assert.ThrowsAsync<DashScopeException>(() => client.CancelTaskAsync(qwen1.TaskId));
        var generated = await client.GenerateAsync(new QwenImageRequest("four", DashScopeModels.QwenImagePlus));
        await DownloadPngAsync(generated.ImageUrls[0]);
        downloads++;
        await client.ListTasksAsync();

        var stats = emulator.Stats.Snapshot();
        Assert.Equal(4, stats.Submissions);
        Assert.Equal(3, stats.Accepted);
        Assert.Equal(2, stats.SubmissionsByModel[DashScopeModels.QwenImage]);
        Assert.Equal(1, stats.SubmissionsByModel[DashScopeModels.WanxV1]);
        Assert.Equal(1, stats.SubmissionsByModel[DashScopeModels.QwenImagePlus]);
        Assert.Equal(2, stats.AcceptedByModel[DashScopeModels.QwenImage]);
        Assert.False(stats.AcceptedByModel.ContainsKey(DashScopeModels.QwenImagePlus));
        Assert.Equal(1, stats.SyncCalls);
        Assert.Equal(polls.Values.Sum(), stats.Queries);
        foreach (var (id, count) in polls)
        {
            Assert.Equal(count, stats.QueriesByTask[id]);
        }

        Assert.Equal(1, stats.ListCalls);
        Assert.Equal(1, stats.CancelRequests);
        Assert.Equal(0, stats.Canceled);
        Assert.Equal(0, stats.Throttled);
        Assert.Equal(0, stats.InjectedErrors);
        Assert.Equal(5, downloads);
        Assert.Equal(downloads, stats.ImagesServed);

        // GET /emulator/stats serves the same numbers.
        var json = System.Text.Json.Nodes.JsonNode.Parse(await Http.GetStringAsync(new Uri(emulator.RootAddress, "emulator/stats")))!;
        Assert.Equal(4, (int)json["submissions"]!);
        Assert.Equal(stats.Queries, (int)json["queries"]!);
        Assert.Equal(5, (int)json["images_served"]!);
    }

    private static void AssertUnsupported(DashScopeException ex)
    {
        Assert.Equal(400, ex.Status);
        Assert.Equal(DashScopeErrorCodes.UnsupportedOperation, ex.Code);
        Assert.False(ex.IsRetryable);
        Assert.Contains("PENDING", ex.Message, StringComparison.Ordinal);
    }
}
