using System.IO.Compression;
using System.Net;
using System.Text.Json;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>States, cancel, expiry, concurrency queueing and rate limits, on a clock the test moves (time scale 1).</summary>
public sealed class TaskLifecycleTests
{
    private static readonly string Wanx = EmulatorClient.Body("wanx-v1", new { prompt = "a boat" }, new { n = 1 });
    private static readonly string Qwen = EmulatorClient.Body("qwen-image", new { prompt = "a cat" });

    private static Task<EmulatorClient> StartAsync(FakeTimeProvider time, Action<DashScopeEmulatorOptions>? configure = null) =>
        EmulatorClient.StartAsync(o => { o.TimeScale = 1; configure?.Invoke(o); }, time);

    [Fact]
    public async Task GetTask_UnknownId_200Unknown()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.GetTaskAsync("4f90cf14-a34e-4eae-0000-000000000000");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("UNKNOWN", reply.Output.GetProperty("task_status").GetString());
        Assert.Equal("4f90cf14-a34e-4eae-0000-000000000000", reply.Output.GetProperty("task_id").GetString());
        Assert.Equal("application/json; charset=UTF-8", reply.ContentType);
    }

    [Fact]
    public async Task GetTask_AfterTtl_Unknown()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Qwen);
        time.Advance(TimeSpan.FromHours(23));
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(id));

        time.Advance(TimeSpan.FromHours(1.5));

        Assert.Equal("UNKNOWN", await emu.StatusAsync(id));
    }

    [Fact]
    public async Task GetTask_TtlIsScaledByTimeScale()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time, o => o.TimeScale = 0.5);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Qwen);
        time.Advance(TimeSpan.FromHours(11.9));
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(id));

        time.Advance(TimeSpan.FromHours(0.2));

        Assert.Equal("UNKNOWN", await emu.StatusAsync(id));
    }

    [Fact]
    public async Task GetTask_Running_HasScheduledTimeAndMetricsButNoResults()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);
        Assert.Equal("PENDING", await emu.StatusAsync(id));

        time.Advance(TimeSpan.FromSeconds(5));
        var reply = await emu.GetTaskAsync(id);

        Assert.Equal("RUNNING", reply.Output.GetProperty("task_status").GetString());
        Assert.Equal("2025-01-08 16:03:59.840", reply.Output.GetProperty("submit_time").GetString()); // UTC+8
        Assert.Equal("2025-01-08 16:03:59.870", reply.Output.GetProperty("scheduled_time").GetString());
        Assert.Equal(1, reply.Output.GetProperty("task_metrics").GetProperty("TOTAL").GetInt32());
        Assert.False(reply.Output.TryGetProperty("results", out _));
        Assert.False(reply.Output.TryGetProperty("end_time", out _));
        Assert.False(reply.Json.TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task GetTask_WanxLatency_RunsForDocumentedRange()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);

        time.Advance(TimeSpan.FromSeconds(25.9));
        Assert.Equal("RUNNING", await emu.StatusAsync(id));
        time.Advance(TimeSpan.FromSeconds(5.2));
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(id));
    }

    [Fact]
    public async Task Cancel_PendingTask_CanceledAndRunningTaskRefused()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var first = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);
        var second = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx); // wanx-v1 runs 1 task at a time
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("RUNNING", await emu.StatusAsync(first));
        Assert.Equal("PENDING", await emu.StatusAsync(second));

        var canceled = await emu.CancelAsync(second);
        var refused = await emu.CancelAsync(first);

        Assert.Equal(HttpStatusCode.OK, canceled.Status);
        Assert.True(canceled.Json.TryGetProperty("request_id", out _));
        Assert.Equal("CANCELED", await emu.StatusAsync(second));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("UnsupportedOperation", refused.Code);
        Assert.Equal("Failed to cancel the task, please confirm if the task is in PENDING status.", refused.Message);
        time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(first));
        Assert.Equal("CANCELED", await emu.StatusAsync(second));
        var stats = emu.Host.Stats.Snapshot();
        Assert.Equal(2, stats.CancelRequests);
        Assert.Equal(1, stats.Canceled);
    }

    [Fact]
    public async Task Cancel_FinishedOrUnknownTask_UnsupportedOperation()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Qwen);
        time.Advance(TimeSpan.FromMinutes(1));

        var finished = await emu.CancelAsync(id);
        var unknown = await emu.CancelAsync("nope");

        Assert.Equal("UnsupportedOperation", finished.Code);
        Assert.Equal("UnsupportedOperation", unknown.Code);
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(id));
    }

    [Fact]
    public async Task Submit_OverConcurrencyCap_WaitsPendingAndRunsWhenSlotFrees()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var first = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);
        var second = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("RUNNING", await emu.StatusAsync(first));
        Assert.Equal("PENDING", await emu.StatusAsync(second));

        time.Advance(TimeSpan.FromSeconds(12)); // wanx-v1 takes 26–31 s
        var firstDone = (await emu.GetTaskAsync(first)).Output;
        var secondRunning = (await emu.GetTaskAsync(second)).Output;
        Assert.Equal("SUCCEEDED", firstDone.GetProperty("task_status").GetString());
        Assert.Equal("RUNNING", secondRunning.GetProperty("task_status").GetString());
        Assert.True(string.CompareOrdinal(secondRunning.GetProperty("scheduled_time").GetString(), firstDone.GetProperty("end_time").GetString()) >= 0);

        time.Advance(TimeSpan.FromSeconds(32));
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(second));
    }

    [Fact]
    public async Task Submit_OverConcurrencyCapWithRejectSetting_429()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time, o => o.RejectOverConcurrency = true);
        await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);

        var rejected = await emu.PostAsync(EmulatorClient.Text2Image, Wanx);
        time.Advance(TimeSpan.FromSeconds(40));
        var later = await emu.PostAsync(EmulatorClient.Text2Image, Wanx);

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.Status);
        Assert.Equal("Throttling.RateQuota", rejected.Code);
        Assert.Equal(HttpStatusCode.OK, later.Status);
        var stats = emu.Host.Stats.Snapshot();
        Assert.Equal(1, stats.ThrottledByKind[EmulatorStats.Concurrency]);
        Assert.Equal(2, stats.Accepted);
    }

    [Fact]
    public async Task Submit_LimitsDisabled_NoQueueNoThrottle()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time, o => o.EnableLimits = false);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx));
        }

        time.Advance(TimeSpan.FromSeconds(1));

        foreach (var id in ids)
        {
            Assert.Equal("RUNNING", await emu.StatusAsync(id));
        }
    }

    [Fact]
    public async Task Submit_OverModelRps_429ThenRecoversNextSecond()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        Assert.Equal(HttpStatusCode.OK, (await emu.PostAsync(EmulatorClient.Text2Image, Qwen)).Status);
        Assert.Equal(HttpStatusCode.OK, (await emu.PostAsync(EmulatorClient.Text2Image, Qwen)).Status);

        var third = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);
        var otherModel = await emu.PostAsync(EmulatorClient.Text2Image, Wanx);
        time.Advance(TimeSpan.FromSeconds(1));
        var nextSecond = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);

        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status);
        Assert.Equal("Throttling.RateQuota", third.Code);
        Assert.Equal(HttpStatusCode.OK, otherModel.Status); // limits are per model
        Assert.Equal(HttpStatusCode.OK, nextSecond.Status);
        var stats = emu.Host.Stats.Snapshot();
        Assert.Equal(1, stats.ThrottledByKind[EmulatorStats.SubmitRps]);
        Assert.Equal(4, stats.Accepted);
        Assert.Equal(5, stats.Submissions);
    }

    [Theory]
    [InlineData(false, HttpStatusCode.TooManyRequests)] // real seconds: still the same window 200 ms later
    [InlineData(true, HttpStatusCode.OK)]               // service seconds at 0.1: the window is 100 ms
    public async Task Submit_ScaleRateWindows_WindowIsOneServiceSecond(bool scaled, HttpStatusCode after200Ms)
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => { o.TimeScale = 0.1; o.ScaleRateWindows = scaled; }, time);
        Assert.Equal(HttpStatusCode.OK, (await emu.PostAsync(EmulatorClient.Text2Image, Qwen)).Status);
        Assert.Equal(HttpStatusCode.OK, (await emu.PostAsync(EmulatorClient.Text2Image, Qwen)).Status);
        var third = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);
        time.Advance(TimeSpan.FromMilliseconds(200));

        var later = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);

        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status); // 2 RPS either way
        Assert.Equal(after200Ms, later.Status);
    }

    [Fact]
    public async Task Submit_LimitScale_RaisesRps()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time, o => o.LimitScale = 2);
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            codes.Add((await emu.PostAsync(EmulatorClient.Text2Image, Qwen)).Status);
        }

        Assert.Equal(4, codes.Count(c => c == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, codes[4]);
    }

    [Fact]
    public async Task GetTask_Over20Qps_429ThenRecovers()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await emu.GetTaskAsync("t" + i)).Status);
        }

        var throttled = await emu.GetTaskAsync("t20");
        time.Advance(TimeSpan.FromSeconds(1));
        var after = await emu.GetTaskAsync("t21");

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.Status);
        Assert.Equal("Throttling.RateQuota", throttled.Code);
        Assert.Equal(HttpStatusCode.OK, after.Status);
        var stats = emu.Host.Stats.Snapshot();
        Assert.Equal(1, stats.ThrottledByKind[EmulatorStats.QueryQps]);
        Assert.Equal(21, stats.Queries);
    }

    [Fact]
    public async Task ListTasks_FiltersByModelAndStatus()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await StartAsync(time);
        var wanx = await emu.SubmitAsync(EmulatorClient.Text2Image, Wanx);
        await emu.SubmitAsync(EmulatorClient.Text2Image, Qwen);
        time.Advance(TimeSpan.FromSeconds(20));

        using var all = await emu.Http.GetAsync("tasks");
        var allJson = (await Reply.ReadAsync(all)).Json;
        using var filtered = await emu.Http.GetAsync("tasks?model_name=wanx-v1&status=RUNNING&page_no=1&page_size=10");
        var reply = await Reply.ReadAsync(filtered);

        Assert.Equal(2, allJson.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(1, reply.Json.GetProperty("total").GetInt32());
        Assert.Equal(1, reply.Json.GetProperty("total_page").GetInt32());
        var item = reply.Json.GetProperty("data")[0];
        Assert.Equal(wanx, item.GetProperty("task_id").GetString());
        Assert.Equal("RUNNING", item.GetProperty("status").GetString());
        Assert.Equal("wanx-v1", item.GetProperty("model_name").GetString());
        Assert.Equal(time.GetUtcNow().AddSeconds(-20).ToUnixTimeMilliseconds(), item.GetProperty("gmt_create").GetInt64());
    }

    [Fact]
    public async Task ListTasks_WindowOver24Hours_400()
    {
        await using var emu = await EmulatorClient.StartAsync();

        using var response = await emu.Http.GetAsync("tasks?start_time=20250101000000&end_time=20250103000000");
        var reply = await Reply.ReadAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("InvalidParameter", reply.Code);
    }

    [Fact]
    public async Task GetTask_AcceptEncodingGzip_CompressedJson()
    {
        await using var emu = await EmulatorClient.StartAsync();
        using var handler = new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None };
        using var http = new HttpClient(handler) { BaseAddress = emu.Host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "tasks/abc");
        request.Headers.Authorization = new("Bearer", EmulatorClient.ApiKey);
        request.Headers.AcceptEncoding.Add(new("gzip"));

        using var response = await http.SendAsync(request);

        Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
        Assert.Equal("application/json; charset=UTF-8", response.Content.Headers.ContentType?.ToString());
        await using var gzip = new GZipStream(await response.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        using var json = await JsonDocument.ParseAsync(gzip);
        Assert.Equal("UNKNOWN", json.RootElement.GetProperty("output").GetProperty("task_status").GetString());
    }
}
