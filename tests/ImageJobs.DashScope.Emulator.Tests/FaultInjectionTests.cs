using System.Net;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>Injected submit errors, failed tasks, partial failures and the data-inspection trigger, all seeded.</summary>
public sealed class FaultInjectionTests
{
    private static readonly string Qwen = EmulatorClient.Body("qwen-image", new { prompt = "a cat" });

    private static async Task<List<HttpStatusCode>> SubmitManyAsync(int seed, int count)
    {
        await using var emu = await EmulatorClient.StartAsync(o =>
        {
            o.Seed = seed;
            o.EnableLimits = false;
            o.SubmitErrorRate = 0.3;
            o.SubmitThrottleRate = 0.3;
        });
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            codes.Add((await emu.PostAsync(EmulatorClient.Text2Image, Qwen)).Status);
        }

        var stats = emu.Host.Stats.Snapshot();
        Assert.Equal(codes.Count(c => c == HttpStatusCode.InternalServerError), stats.InjectedErrors);
        Assert.Equal(codes.Count(c => c == HttpStatusCode.TooManyRequests), stats.ThrottledByKind.GetValueOrDefault(EmulatorStats.Injected));
        Assert.Equal(codes.Count(c => c == HttpStatusCode.OK), stats.Accepted);
        return codes;
    }

    [Fact]
    public async Task Submit_FaultFractionsWithSeed_RepeatAcrossRuns()
    {
        var first = await SubmitManyAsync(seed: 7, count: 40);
        var second = await SubmitManyAsync(seed: 7, count: 40);

        Assert.Equal(first, second);
        Assert.Contains(HttpStatusCode.OK, first);
        Assert.Contains(HttpStatusCode.InternalServerError, first);
        Assert.Contains(HttpStatusCode.TooManyRequests, first);
    }

    [Fact]
    public async Task Submit_ErrorRateOne_500InternalError()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.SubmitErrorRate = 1);

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);

        Assert.Equal(HttpStatusCode.InternalServerError, reply.Status);
        Assert.Equal("InternalError", reply.Code);
        Assert.True(reply.Json.TryGetProperty("request_id", out _));
    }

    [Fact]
    public async Task Submit_ThrottleRateOne_429RateQuota()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.SubmitThrottleRate = 1);

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);

        Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
        Assert.Equal("Throttling.RateQuota", reply.Code);
    }

    [Fact]
    public async Task Submit_PromptWithTriggerWord_400DataInspectionFailed()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.DataInspectionTrigger = "forbidden");

        var blocked = await emu.PostAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "a FORBIDDEN castle" }));
        var allowed = await emu.PostAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "a castle" }));

        Assert.Equal(HttpStatusCode.BadRequest, blocked.Status);
        Assert.Equal("DataInspectionFailed", blocked.Code);
        Assert.Equal("Input data may contain inappropriate content.", blocked.Message);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
    }

    [Fact]
    public async Task Task_FailureRateOne_FailedWithInternalErrorTimeout()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.TaskFailureRate = 1);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { n = 2 }));

        var output = (await emu.WaitAsync(id)).GetProperty("output");

        Assert.Equal("FAILED", output.GetProperty("task_status").GetString());
        Assert.Equal("InternalError.Timeout", output.GetProperty("code").GetString());
        Assert.Equal(2, output.GetProperty("task_metrics").GetProperty("FAILED").GetInt32());
    }

    [Fact]
    public async Task Multimodal_FailureRateOne_ErrorResponse()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.TaskFailureRate = 1);
        var body = EmulatorClient.Body("qwen-image", new { messages = new[] { new { role = "user", content = new[] { new { text = "x" } } } } });

        var reply = await emu.PostAsync(EmulatorClient.Multimodal, body, isAsync: false);

        Assert.Equal(HttpStatusCode.InternalServerError, reply.Status);
        Assert.Equal("InternalError.Timeout", reply.Code);
    }

    [Fact]
    public async Task Task_ImageFailureRate_PartialFailuresMixUrlsAndErrors()
    {
        await using var emu = await EmulatorClient.StartAsync(o =>
        {
            o.ImageFailureRate = 0.5;
            o.EnableLimits = false;
            o.Seed = 3;
        });
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await emu.SubmitAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "p" + i })));
        }

        var mixed = 0;
        var failedTasks = 0;
        foreach (var id in ids)
        {
            var done = await emu.WaitAsync(id);
            var output = done.GetProperty("output");
            var metrics = output.GetProperty("task_metrics");
            Assert.Equal(4, metrics.GetProperty("TOTAL").GetInt32());
            if (output.GetProperty("task_status").GetString() == "FAILED")
            {
                failedTasks++;
                Assert.Equal(4, metrics.GetProperty("FAILED").GetInt32());
                continue;
            }

            var results = output.GetProperty("results").EnumerateArray().ToList();
            var urls = results.Where(r => r.TryGetProperty("url", out _)).ToList();
            var errors = results.Where(r => r.TryGetProperty("code", out _)).ToList();
            Assert.Equal(4, urls.Count + errors.Count);
            Assert.Equal(urls.Count, done.GetProperty("usage").GetProperty("image_count").GetInt32());
            Assert.Equal(urls.Count, metrics.GetProperty("SUCCEEDED").GetInt32());
            Assert.Equal(errors.Count, metrics.GetProperty("FAILED").GetInt32());
            Assert.All(errors, e => Assert.Contains(e.GetProperty("code").GetString(), new[] { "InternalError.Timeout", "DataInspectionFailed" }));
            Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString())));
            if (errors.Count > 0)
            {
                mixed++;
                var (status, _) = await emu.DownloadAsync(urls[0].GetProperty("url").GetString()!);
                Assert.Equal(HttpStatusCode.OK, status);
            }
        }

        Assert.True(mixed > 0, "expected at least one partially failed task with seed 3");
        Assert.Equal(ids.Count - failedTasks, emu.Host.Stats.Snapshot().Accepted - failedTasks);
    }

    [Fact]
    public async Task Submit_ResponseDelay_StillAnswersCorrectly()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.ResponseDelay = TimeSpan.FromMilliseconds(20));

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, Qwen);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }
}
