using System.Text.Json.Nodes;
using ImageJobs.DashScope.Emulator;
using static ImageJobs.DashScope.Tests.Emulator.EmulatorKit;

namespace ImageJobs.DashScope.Tests.Emulator;

/// <summary>The errors the emulator answers reach the caller as the right <see cref="DashScopeException"/>.</summary>
public class EmulatorErrorTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private static QwenImageRequest Cat() => new QwenImageRequest("a cat", DashScopeModels.QwenImage);

    [Fact]
    public async Task WrongApiKey_EveryCall_Throws401InvalidApiKey()
    {
        var client = fixture.Client(o => o.ApiKey = "sk-wrong");
        var calls = new Func<Task>[]
        {
            () => client.SubmitAsync(Cat()),
            () => client.GenerateAsync(Cat()),
            () => client.GetTaskAsync("some-task"),
            () => client.CancelTaskAsync("some-task"),
            () => client.ListTasksAsync(),
        };
        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<DashScopeException>(call);
            AssertError(ex, 401, DashScopeErrorCodes.InvalidApiKey, retryable: false);
            Assert.Contains("Invalid API-key provided.", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("sk-wrong", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UnknownModel_ValidationOff_Throws404ModelNotFound()
    {
        var body = new JsonObject { ["model"] = "wanx-v9", ["input"] = new JsonObject { ["prompt"] = "cat" } };
        var request = DashScopeImageRequest.FromJson(body);

        // With validation on, the client refuses it itself and sends nothing.
        await Assert.ThrowsAsync<DashScopeValidationException>(() => fixture.Client().SubmitAsync(request));

        var ex = await Assert.ThrowsAsync<DashScopeException>(() => fixture.Client(o => o.ValidateRequests = false).SubmitAsync(request));
        AssertError(ex, 404, DashScopeErrorCodes.ModelNotFound, retryable: false);
        Assert.Contains("Model not exist.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidParameter_ValidationOff_ServerAnswers400()
    {
        var client = fixture.Client(o => o.ValidateRequests = false);
        var requests = new DashScopeImageRequest[]
        {
            new QwenImageRequest("a cat") { N = 2 },
            new WanImageToImageRequest("a cat", [PngDataUri(400, 400)]) { Size = "100*100", N = 1 },
            new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEditWithMask, "a hat", PngDataUri(512, 512)) { N = 1 },
            new QwenImageRequest("a cat") { Size = "1024*1024" },
        };
        foreach (var request in requests)
        {
            Assert.NotEmpty(request.Validate()); // the client would have refused each of them
            var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.SubmitAsync(request));
            AssertError(ex, 400, DashScopeErrorCodes.InvalidParameter, retryable: false);
        }
    }

    [Fact]
    public async Task ImageTooSmall_PassesClientValidation_ServerAnswers400()
    {
        // The client cannot know pixel sizes; the emulator reads the PNG's IHDR (wanx2.1-imageedit: 512–4096 per side).
        var request = new WanxImageEditRequest(WanxImageEditFunctions.StylizationAll, "make it blue", PngDataUri(256, 600)) { N = 1 };
        Assert.Empty(request.Validate());
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => fixture.Client().SubmitAsync(request));
        AssertError(ex, 400, DashScopeErrorCodes.InvalidParameter, retryable: false);
        Assert.Contains("256*600", ex.Message, StringComparison.Ordinal);

        var mismatch = new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEditWithMask, "a hat", PngDataUri(512, 512))
        {
            MaskImageUrl = PngDataUri(600, 512),
        };
        ex = await Assert.ThrowsAsync<DashScopeException>(() => fixture.Client().SubmitAsync(mismatch));
        AssertError(ex, 400, DashScopeErrorCodes.InvalidParameter, retryable: false);
    }

    [Fact]
    public async Task SubmitRateExceeded_Throws429ThrottlingRetryable_AndARetryLaterSucceeds()
    {
        await using var emulator = await StartAsync(o => o.LimitScale = 1); // qwen-image: 2 submits per second
        var client = Client(emulator);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                return (Task: await client.SubmitAsync(Cat()), Error: (DashScopeException?)null);
            }
            catch (DashScopeException ex)
            {
                return (Task: (DashScopeTaskSubmission?)null, Error: ex);
            }
        }));

        var errors = outcomes.Where(o => o.Error is not null).Select(o => o.Error!).ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, ex => AssertError(ex, 429, "Throttling.RateQuota", retryable: true));
        var stats = emulator.Stats.Snapshot();
        Assert.Equal(errors.Count, stats.ThrottledByKind.GetValueOrDefault(EmulatorStats.SubmitRps));
        Assert.Equal(8 - errors.Count, stats.Accepted);

        // IsRetryable means it: once the one-second window has passed, the same call goes through.
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            try
            {
                var submission = await client.SubmitAsync(Cat());
                Assert.Equal(DashScopeTaskStatus.Pending, submission.Status);
                break;
            }
            catch (DashScopeException ex) when (ex.IsRetryable && DateTime.UtcNow < deadline)
            {
            }
        }
    }

    [Fact]
    public async Task InjectedThrottle_Throws429Retryable()
    {
        await using var emulator = await StartAsync(o => o.SubmitThrottleRate = 1);
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => Client(emulator).SubmitAsync(Cat()));
        AssertError(ex, 429, "Throttling.RateQuota", retryable: true);
        Assert.Equal(1, emulator.Stats.Snapshot().ThrottledByKind.GetValueOrDefault(EmulatorStats.Injected));
    }

    [Fact]
    public async Task ConcurrencyCapWithRejection_Throws429Retryable()
    {
        // A clock that stands still: the first wanx-v1 task holds the only slot until the test moves time on.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var emulator = await StartAsync(o =>
        {
            o.LimitScale = 1; // wanx-v1: one task at a time
            o.RejectOverConcurrency = true;
            o.TimeScale = 1;
        }, clock);
        var client = Client(emulator);
        var first = await client.SubmitAsync(new WanxTextToImageRequest("first") { N = 1 });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.SubmitAsync(new WanxTextToImageRequest("second") { N = 1 }));
        AssertError(ex, 429, "Throttling.RateQuota", retryable: true);
        Assert.Equal(1, emulator.Stats.Snapshot().ThrottledByKind.GetValueOrDefault(EmulatorStats.Concurrency));

        // Retrying once the slot is free succeeds.
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(DashScopeTaskStatus.Succeeded, (await client.GetTaskAsync(first.TaskId)).Status);
        var retried = await client.SubmitAsync(new WanxTextToImageRequest("second") { N = 1 });
        Assert.Equal(DashScopeTaskStatus.Pending, retried.Status);
    }

    [Fact]
    public async Task InjectedServerError_Throws500InternalErrorRetryable()
    {
        await using var emulator = await StartAsync(o => o.SubmitErrorRate = 1);
        var client = Client(emulator);
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.SubmitAsync(new WanxTextToImageRequest("cat") { N = 1 }));
        AssertError(ex, 500, DashScopeErrorCodes.InternalError, retryable: true);
        ex = await Assert.ThrowsAsync<DashScopeException>(() => client.GenerateAsync(Cat()));
        AssertError(ex, 500, DashScopeErrorCodes.InternalError, retryable: true);
        var stats = emulator.Stats.Snapshot();
        Assert.Equal(2, stats.InjectedErrors);
        Assert.Equal(0, stats.Accepted);
    }

    [Fact]
    public async Task TriggerWordInPrompt_Throws400DataInspectionFailed()
    {
        await using var emulator = await StartAsync(o => o.DataInspectionTrigger = "contraband");
        var client = Client(emulator);
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.SubmitAsync(new QwenImageRequest("a crate of CONTRABAND")));
        AssertError(ex, 400, DashScopeErrorCodes.DataInspectionFailed, retryable: false);
        ex = await Assert.ThrowsAsync<DashScopeException>(() => client.GenerateAsync(new QwenImageRequest("contraband on a table")));
        AssertError(ex, 400, DashScopeErrorCodes.DataInspectionFailed, retryable: false);

        // A clean prompt on the same emulator goes through.
        var submission = await client.SubmitAsync(new QwenImageRequest("a crate of apples"));
        Assert.Equal(DashScopeTaskStatus.Succeeded, (await PollUntilTerminalAsync(client, submission.TaskId)).Task.Status);
    }

    private static void AssertError(DashScopeException ex, int status, string code, bool retryable)
    {
        Assert.Equal(status, ex.Status);
        Assert.Equal(code, ex.Code);
        Assert.Equal(retryable, ex.IsRetryable);
        Assert.False(string.IsNullOrEmpty(ex.RequestId), "The emulator sends a request_id with every error.");
    }
}
