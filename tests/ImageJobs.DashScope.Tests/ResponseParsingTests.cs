namespace ImageJobs.DashScope.Tests;

/// <summary>Responses copied from the seeds (and built from the spec) parse into the right models, over real HTTP.</summary>
public class ResponseParsingTests
{
    private static async Task<DashScopeTask> GetAsync(string file)
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/" + file)));
        return await TestClients.Create(server).GetTaskAsync("some-task");
    }

    private static readonly TimeSpan s_utc8 = TimeSpan.FromHours(8);

    [Fact]
    public async Task SubmitAsync_PendingSeed003_ReturnsTaskIdAndPending()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/003_qwen-image_submit_pending.json")));
        var submission = await TestClients.Create(server).SubmitAsync(new QwenImageRequest("cat"));
        Assert.Equal("0385dc79-5ff8-4d82-bcb6-xxxxxx", submission.TaskId);
        Assert.Equal(DashScopeTaskStatus.Pending, submission.Status);
        Assert.Equal("4909100c-7b5a-9f92-bfe5-xxxxxx", submission.RequestId);
    }

    [Fact]
    public async Task SubmitAsync_PendingSeed000_ReturnsTaskId()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/000_wanx-v1_submit_pending.json")));
        var submission = await TestClients.Create(server).SubmitAsync(new WanxTextToImageRequest("cat") { N = 1 });
        Assert.Equal("7277e20e-aa01-4709-xxxxxxxx", submission.TaskId);
        Assert.Equal("5dbf9dc5-4f4c-9605-85ea-542f97709ba8", submission.RequestId);
    }

    [Fact]
    public async Task GetTaskAsync_PendingWithVideoUrlSeed001_IgnoresUnknownFields()
    {
        var task = await GetAsync("001_wanx2.1-imageedit_pending_sdk.json");
        Assert.Equal(DashScopeTaskStatus.Pending, task.Status);
        Assert.Equal("686391d9-7ecf-4290-a8e9-xxxxxx", task.TaskId);
        Assert.Empty(task.Results);
        Assert.Null(task.Usage);
        Assert.False(task.Status.IsTerminal);
    }

    [Fact]
    public async Task GetTaskAsync_Running_HasMetricsNoResultsNoEndTime()
    {
        var task = await GetAsync("spec_running.json");
        Assert.Equal(DashScopeTaskStatus.Running, task.Status);
        Assert.Empty(task.Results);
        Assert.Null(task.EndTime);
        Assert.Equal(new DateTimeOffset(2025, 5, 26, 14, 58, 27, 320, s_utc8), task.SubmitTime);
        Assert.Equal(4, task.Metrics!.Total);
        Assert.Equal(0, task.Metrics.Succeeded);
    }

    [Fact]
    public async Task GetTaskAsync_SucceededSeed003_HasPromptsUrlTimesAndUsage()
    {
        var task = await GetAsync("003_qwen-image_succeeded.json");
        Assert.Equal(DashScopeTaskStatus.Succeeded, task.Status);
        Assert.True(task.Status.IsTerminal);
        var result = Assert.Single(task.Results);
        Assert.True(result.IsSuccess);
        Assert.Equal("https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/7d/xxx.png?Expires=xxxx", result.Url);
        Assert.StartsWith("Healing-style hand-drawn poster", result.OriginalPrompt, StringComparison.Ordinal);
        Assert.StartsWith("Childhood-inspired hand-drawn poster", result.ActualPrompt, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2025, 9, 9, 11, 38, 54, 741, s_utc8), task.SubmitTime);
        Assert.Equal(new DateTimeOffset(2025, 9, 9, 3, 39, 19, 484, TimeSpan.Zero), task.EndTime!.Value.ToUniversalTime());
        Assert.Null(task.Metrics); // qwen-image examples carry no task_metrics
        Assert.Equal(1, task.Usage!.ImageCount);
        Assert.Equal(["https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/7d/xxx.png?Expires=xxxx"], task.ImageUrls);
    }

    [Fact]
    public async Task GetTaskAsync_SucceededSdkSeed000_ParsesDespiteWrapperFields()
    {
        var task = await GetAsync("000_wanx-v1_succeeded_sdk.json");
        Assert.Equal(DashScopeTaskStatus.Succeeded, task.Status);
        Assert.Equal("https://dashscope-result-hz.oss-cn-hangzhou.aliyuncs.com/xxxx.png", Assert.Single(task.ImageUrls));
        Assert.Equal(1, task.Metrics!.Succeeded);
        Assert.Equal(0, task.Metrics.Failed);
    }

    [Fact]
    public async Task GetTaskAsync_SucceededSeed002_HasOrigPromptAndAcdrHostUrl()
    {
        var task = await GetAsync("002_wan2.5-i2i-preview_succeeded.json");
        var result = Assert.Single(task.Results);
        Assert.Equal("将图1中的闹钟放置到图2的餐桌的花瓶旁边位置", result.OriginalPrompt);
        Assert.Null(result.ActualPrompt);
        Assert.True(DashScopeResultHosts.IsResultUrl(new Uri(result.Url!)));
    }

    [Fact]
    public async Task GetTaskAsync_FailedSeed003_HasCodeAndMessage()
    {
        var task = await GetAsync("003_qwen-image_failed.json");
        Assert.Equal(DashScopeTaskStatus.Failed, task.Status);
        Assert.Equal("InvalidParameter", task.Code);
        Assert.Equal("xxxxxxxx", task.Message);
        Assert.Empty(task.Results);
        Assert.Equal(new DateTimeOffset(2025, 11, 11, 11, 46, 28, 255, s_utc8), task.EndTime);
    }

    [Fact]
    public async Task GetTaskAsync_FailedWithMetrics_HasMetricsAndMessage()
    {
        var task = await GetAsync("spec_failed_with_metrics.json");
        Assert.Equal(DashScopeTaskStatus.Failed, task.Status);
        Assert.Contains("allowed size", task.Message, StringComparison.Ordinal);
        Assert.Equal(4, task.Metrics!.Failed);
    }

    [Fact]
    public async Task GetTaskAsync_PartialFailure_KeepsFailuresNextToSuccesses()
    {
        var task = await GetAsync("spec_partial_failure.json");
        Assert.Equal(DashScopeTaskStatus.Succeeded, task.Status);
        Assert.Equal(4, task.Results.Count);
        Assert.True(task.Results[0].IsSuccess);
        Assert.False(task.Results[1].IsSuccess);
        Assert.Equal("InternalError.Timeout", task.Results[1].Code);
        Assert.True(task.Results[2].IsSuccess);
        Assert.Equal("DataInspectionFailed", task.Results[3].Code);
        Assert.Equal("Output data may contain inappropriate content.", task.Results[3].Message);
        Assert.Equal(2, task.ImageUrls.Count);
        Assert.Equal(2, task.Usage!.ImageCount);
        Assert.Equal((4, 2, 2), (task.Metrics!.Total, task.Metrics.Succeeded, task.Metrics.Failed));
    }

    [Fact]
    public async Task GetTaskAsync_Unknown_ReturnsUnknownTerminalStatus()
    {
        var task = await GetAsync("spec_unknown.json");
        Assert.Equal(DashScopeTaskStatus.Unknown, task.Status);
        Assert.True(task.Status.IsTerminal);
        Assert.Empty(task.Results);
    }

    [Fact]
    public async Task GetTaskAsync_FutureStatusAndFields_ParsesWithoutThrowing()
    {
        var task = await GetAsync("spec_future_status.json");
        Assert.Equal("ARCHIVED", task.Status.Value);
        Assert.False(task.Status.IsKnown);
        Assert.False(task.Status.IsTerminal);
        Assert.Single(task.ImageUrls);
        Assert.Equal(1, task.Usage!.ImageCount);
    }

    [Fact]
    public async Task GenerateAsync_SyncSeed003_ReturnsImageMetricAndUsage()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/003_qwen-image_sync_succeeded.json")));
        var result = await TestClients.Create(server).GenerateAsync(new QwenImageRequest("cat"));
        Assert.Equal("https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/xxx.png?Expires=xxxx", Assert.Single(result.ImageUrls));
        Assert.Equal("stop", result.FinishReason);
        Assert.Equal(1, result.Metrics!.Succeeded);
        Assert.Equal((1328, 1328, 1), (result.Usage!.Width, result.Usage.Height, result.Usage.ImageCount));
        Assert.Equal("7a270c86-db58-9faf-b403-xxxxxx", result.RequestId);
    }

    [Fact]
    public async Task ListTasksAsync_List_ParsesRowsAndEpochMillis()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/spec_list.json")));
        var list = await TestClients.Create(server).ListTasksAsync();
        Assert.Equal(2, list.Total);
        Assert.Equal((1, 1, 10), (list.TotalPage, list.PageNo, list.PageSize));
        Assert.Equal(2, list.Tasks.Count);
        var first = list.Tasks[0];
        Assert.Equal("b476bc4e-35c1-4c4e-a4d9-xxxxxxx", first.TaskId);
        Assert.Equal(DashScopeTaskStatus.Succeeded, first.Status);
        Assert.Equal("wanx-v1", first.ModelName);
        Assert.Equal("cn-beijing", first.Region);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1731906356541), first.CreatedTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1731906383000), first.EndTime);
        Assert.Null(list.Tasks[1].EndTime);
        Assert.Equal(DashScopeTaskStatus.Pending, list.Tasks[1].Status);
    }

    [Fact]
    public async Task CancelTaskAsync_Success_ReturnsRequestIdAndPostsToCancelPath()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json("""{"request_id":"cancel-1"}"""));
        var result = await TestClients.Create(server).CancelTaskAsync("task-9");
        Assert.Equal("cancel-1", result.RequestId);
        var sent = Assert.Single(server.Requests);
        Assert.Equal(("POST", "/api/v1/tasks/task-9/cancel"), (sent.Method, sent.Path));
        Assert.Equal(string.Empty, sent.Body);
    }

    [Fact]
    public async Task CancelTaskAsync_NotPending_ThrowsUnsupportedOperation()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(
            """{"request_id":"r","code":"UnsupportedOperation","message":"Failed to cancel the task, please confirm if the task is in PENDING status."}""", 400));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).CancelTaskAsync("task-9"));
        Assert.Equal((400, "UnsupportedOperation", false), (ex.Status, ex.Code, ex.IsRetryable));
    }

    [Fact]
    public async Task ListTasksAsync_Query_SendsSnakeCaseParametersInUtc8()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/spec_list.json")));
        await TestClients.Create(server).ListTasksAsync(new DashScopeTaskListQuery
        {
            TaskId = "t1",
            StartTime = new DateTimeOffset(2025, 1, 2, 0, 0, 0, TimeSpan.Zero),
            EndTime = new DateTimeOffset(2025, 1, 2, 20, 30, 15, TimeSpan.Zero),
            ModelName = "wanx-v1",
            Status = DashScopeTaskStatus.Succeeded,
            PageNo = 2,
            PageSize = 50,
        });
        var sent = Assert.Single(server.Requests);
        Assert.Equal("/api/v1/tasks", sent.Path);
        Assert.Equal(
            "?task_id=t1&start_time=20250102080000&end_time=20250103043015&model_name=wanx-v1&status=SUCCEEDED&page_no=2&page_size=50",
            sent.Query);
    }

    [Fact]
    public async Task GetTaskAsync_TaskId_IsEscapedInPath()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/spec_unknown.json")));
        await TestClients.Create(server).GetTaskAsync("a b/c");
        Assert.Equal("/api/v1/tasks/a%20b%2Fc", Assert.Single(server.Requests).RawTarget);
    }

    [Theory]
    [InlineData("CANCELED", true)]
    [InlineData("SUSPENDED", false)]
    [InlineData("PENDING", false)]
    public async Task GetTaskAsync_OtherStatuses_ParseIntoKnownStatus(string value, bool terminal)
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(
            $$$"""{"request_id":"r","output":{"task_id":"t1","task_status":"{{{value}}}","submit_time":"2025-01-01 00:00:00.000"}}"""));
        var task = await TestClients.Create(server).GetTaskAsync("t1");
        Assert.Equal(new DashScopeTaskStatus(value), task.Status);
        Assert.True(task.Status.IsKnown);
        Assert.Equal(terminal, task.Status.IsTerminal);
        Assert.Equal(new DateTimeOffset(2024, 12, 31, 16, 0, 0, TimeSpan.Zero), task.SubmitTime);
    }

    [Fact]
    public async Task GetTaskAsync_OddTypesAndMissingOutput_ParseToNulls()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(
            """{"request_id":42,"output":{"task_id":"t","task_status":"SUCCEEDED","submit_time":"not a time","results":"oops","task_metrics":[]},"usage":"none"}"""));
        var task = await TestClients.Create(server).GetTaskAsync("t");
        Assert.Equal("42", task.RequestId);
        Assert.Null(task.SubmitTime);
        Assert.Empty(task.Results);
        Assert.Null(task.Metrics);
        Assert.Null(task.Usage);
    }
}
