using System.Text.Json.Nodes;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Local.Tests;

/// <summary>
/// Provider failures reach the right terminal state with the provider's code: FAILED tasks, refused prompts, partial
/// failures, expired result URLs, timeouts cancelled at the provider, and 429/500 storms that end in success.
/// Each test runs its own emulator (faults are fixed when it starts) and app on the class's Azurite.
/// </summary>
public sealed class FailureTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static JsonObject Job(string model, string prompt, JsonObject? parameters = null, JsonNode? timeout = null)
    {
        var job = new JsonObject
        {
            ["jobId"] = $"f-{Guid.NewGuid():N}",
            ["model"] = model,
            ["input"] = new JsonObject { ["prompt"] = prompt },
            ["parameters"] = parameters ?? new JsonObject { ["n"] = 1 },
        };
        if (timeout is not null)
        {
            job["timeout"] = timeout;
        }

        return job;
    }

    [Fact]
    public async Task FailedTask_EndsFailedWithProviderCode()
    {
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { TaskFailureRate = 1, LimitScale = 20 });
        var id = await app.StartJobAsync(Job("qwen-image-plus", "a cat"));

        var result = await app.WaitForJobAsync(id);

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal("FAILED", result.ProviderStatus);
        Assert.Equal("InternalError.Timeout", result.Error?.Code);
        Assert.NotNull(result.TaskId);
        Assert.Empty(result.Images);
        Assert.Equal(1, app.Emulator.Stats.Snapshot().Accepted);
        var evt = await new CompletionQueueReader(app.Queues.GetQueueClient("image-jobs-completed")).WaitForAsync(id);
        Assert.Equal($"{id}/failed", evt["id"]!.GetValue<string>());
        Assert.Equal(CompletionEventTypes.Failed, evt["type"]!.GetValue<string>());
        Assert.Equal("InternalError.Timeout", evt["data"]!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task DataInspectionTrigger_EndsFailedWithDataInspectionFailedAndNoTask()
    {
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { DataInspectionTrigger = "forbidden", LimitScale = 20 });
        var id = await app.StartJobAsync(Job("wanx-v1", "a forbidden cat"));

        var result = await app.WaitForJobAsync(id);

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal("DataInspectionFailed", result.Error?.Code);
        Assert.Null(result.TaskId);
        var stats = app.Emulator.Stats.Snapshot();
        Assert.Equal(1, stats.Submissions);
        Assert.Equal(0, stats.Accepted);
    }

    [Fact]
    public async Task PartialImageFailures_KeepStoredImagesAndPerImageCodes()
    {
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { ImageFailureRate = 0.5, Seed = 3, LimitScale = 20 });
        var results = new List<JobResult>();
        for (var i = 0; i < 3; i++)
        {
            results.Add(await app.WaitForJobAsync(await app.StartJobAsync(Job("wanx-v1", "a lighthouse", new JsonObject { ["n"] = 4 }))));
        }

        // With half the images failing, some job has both stored and failed images.
        var partial = results.FirstOrDefault(r => r.Images.Any(i => i.Error is null) && r.Images.Any(i => i.Error is not null));
        Assert.True(partial is not null, "No job had a partial failure: " + string.Join("; ", results.Select(r => $"{r.Status}:{string.Join(",", r.Images.Select(i => i.Error?.Code ?? "ok"))}")));
        Assert.Equal(JobStatus.Succeeded, partial.Status);
        Assert.Equal(4, partial.Images.Count);
        foreach (var image in partial.Images)
        {
            var blob = app.Blobs.GetBlobContainerClient("results").GetBlobClient($"{partial.JobId}/{image.Index}.png");
            if (image.Error is null)
            {
                Assert.True((await blob.ExistsAsync()).Value, $"Image {image.Index} is stored in the result but not in blob storage.");
            }
            else
            {
                Assert.Contains(image.Error.Code, (string[])["DataInspectionFailed", "InternalError.Timeout"]);
                Assert.False((await blob.ExistsAsync()).Value, $"Failed image {image.Index} has a blob.");
            }
        }
    }

    [Fact]
    public async Task ExpiredResultUrls_EachImageFailsWithResultUrlExpired()
    {
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { ResultUrlTtl = TimeSpan.FromMilliseconds(1), LimitScale = 20 });
        var id = await app.StartJobAsync(Job("wanx-v1", "a lighthouse", new JsonObject { ["n"] = 2 }));

        var result = await app.WaitForJobAsync(id);

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(2, result.Images.Count);
        Assert.All(result.Images, i => Assert.Equal("ResultUrlExpired", i.Error?.Code));
        Assert.Equal("ResultUrlExpired", result.Error?.Code);
        Assert.Equal(0, app.Emulator.Stats.Snapshot().ImagesServed);
    }

    [Fact]
    public async Task Timeout_WhileProviderHoldsTaskPending_CancelsAtProviderAndEndsTimedOut()
    {
        // wanx-v1 runs one task at a time: the first job holds the slot for 6.5-7.75 s, so the second stays PENDING well past
        // its 1 s timeout, even when the deadline's timer wakes a second late (DurableTimers.RewaitStep) on a loaded machine.
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { TimeScale = 0.25 });
        var blocker = await app.StartJobAsync(Job("wanx-v1", "a slow lighthouse"));
        await Eventually.GetAsync(() => app.Emulator.Stats.Snapshot().Accepted == 1 ? "" : null, "the blocking job to be submitted");
        var id = await app.StartJobAsync(Job("wanx-v1", "a queued lighthouse", timeout: 1));

        var result = await app.WaitForJobAsync(id);

        Assert.Equal(JobStatus.TimedOut, result.Status);
        Assert.Equal("Timeout", result.Error?.Code);
        Assert.Contains("cancelled at the provider", result.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("PENDING", result.ProviderStatus);
        var stats = app.Emulator.Stats.Snapshot();
        Assert.Equal(1, stats.Canceled);
        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(blocker)).Status);
        var status = await app.GetStatusAsync(id);
        Assert.Equal("TimedOut", status["output"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Timeout_WhileTaskRuns_EndsTimedOutAndSaysTheTaskCouldNotBeCancelled()
    {
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { TimeScale = 0.1 });
        var id = await app.StartJobAsync(Job("wanx-v1", "a slow lighthouse", timeout: 1));

        var result = await app.WaitForJobAsync(id);

        Assert.Equal(JobStatus.TimedOut, result.Status);
        Assert.Equal("RUNNING", result.ProviderStatus);
        Assert.Contains("could not be cancelled", result.Error!.Message, StringComparison.Ordinal);
        var stats = app.Emulator.Stats.Snapshot();
        Assert.Equal((1, 0), (stats.CancelRequests, stats.Canceled));
    }

    [Fact]
    public async Task Cancel_RightAfterStart_EndsCanceled()
    {
        await using var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { TimeScale = 0.1 });
        var id = await app.StartJobAsync(Job("wanx-v1", "never mind"));
        using (var cancel = await app.Http.PostAsync($"api/jobs/{id}/cancel", null))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var result = await app.WaitForJobAsync(id);
        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("Canceled", result.Error?.Code);
    }

    [Theory]
    [InlineData("throttle")]
    [InlineData("error")]
    public async Task SubmitStorm_RetriesUntilEveryJobSucceeds(string storm)
    {
        // Only submits draw the emulator's fault numbers, so seed 11 fixes the outcome sequence whatever order the jobs
        // submit in: 6 injected 500s (or 4 injected 429s) before the 4th success. No job can back off longer than that.
        var options = new DashScopeEmulatorOptions { Seed = 11, LimitScale = 20 };
        if (storm == "throttle")
        {
            options.SubmitThrottleRate = 0.5;
        }
        else
        {
            options.SubmitErrorRate = 0.5;
        }

        await using var app = await TestApp.StartAsync(azurite, options);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await app.StartJobAsync(Job("qwen-image", "a fox", new JsonObject())));
        }

        foreach (var id in ids)
        {
            var result = await app.WaitForJobAsync(id, TimeSpan.FromMinutes(3));
            Assert.True(result.Status == JobStatus.Succeeded, $"{id} ended {result.Status}: {result.Error}");
        }

        var stats = app.Emulator.Stats.Snapshot();
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(stats));
        Assert.Equal(4, stats.Accepted);
        Assert.True(storm == "throttle" ? stats.ThrottledByKind.GetValueOrDefault(EmulatorStats.Injected) > 0 : stats.InjectedErrors > 0,
            $"The storm injected nothing: {System.Text.Json.JsonSerializer.Serialize(stats)}");
    }
}
