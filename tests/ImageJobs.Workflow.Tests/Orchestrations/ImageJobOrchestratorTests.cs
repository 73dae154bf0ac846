using System.Text.Json;
using System.Text.Json.Nodes;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Provider;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Workflow.Tests.Orchestrations;

/// <summary>
/// Every branch of <see cref="ImageJobOrchestrator"/>, run by the Durable Task SDK's in-memory test host (real replay,
/// real durable timers, real retry policies) against scripted fakes of its activities.
/// </summary>
public sealed class ImageJobOrchestratorTests
{
    private static JsonObject Webhook() => new() { ["webhookUrl"] = "https://hooks.example.com/done" };

    // 1. Happy path ---------------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_TaskSucceedsAfterPolls_DownloadsEveryImageInParallelAndNotifies()
    {
        const int images = 3;
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, poll) => poll switch
        {
            0 => WorkflowFakes.Pending(),
            1 => WorkflowFakes.Running(),
            _ => WorkflowFakes.Succeeded(images),
        });

        // A barrier: no download finishes before `together` of them have started, which only a fan-out can pass. The
        // in-memory backend runs at most Environment.ProcessorCount activity work items at once (not configurable), so
        // that many is all a barrier can ask for; the test host's history stream comes back empty, so it cannot show
        // the scheduling instead.
        var together = Math.Min(images, Environment.ProcessorCount);
        var started = 0;
        var startedWhenFirstFinished = -1;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fakes.Download.Script = async (request, _) =>
        {
            if (Interlocked.Increment(ref started) >= together)
            {
                allStarted.TrySetResult();
            }

            var passed = await Task.WhenAny(allStarted.Task, Task.Delay(TimeSpan.FromSeconds(5))) == allStarted.Task;
            Interlocked.CompareExchange(ref startedWhenFirstFinished, Volatile.Read(ref started), -1);
            return passed ? WorkflowFakes.Stored(request) : JobImage.Failed(request.Index, new JobError("Sequential", "The barrier timed out."));
        };
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var job = TestJobs.Create("happy-1", Webhook(), n: images);

        var (result, metadata) = await harness.RunJobAsync(job);

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Null(result.Error);
        Assert.Equal("happy-1", result.JobId);
        Assert.Equal("wanx-v1", result.Model);
        Assert.Equal(WorkflowFakes.TaskId, result.TaskId);
        Assert.Equal("SUCCEEDED", result.ProviderStatus);
        Assert.Equal(3, result.Polls);
        Assert.Equal(fakes.GetTask.Count, result.Polls);
        Assert.Equal("tests/happy-1/manifest.json", result.Manifest);
        Assert.True(result.StartedAt <= result.DetectedAt && result.DetectedAt <= result.CompletedAt);

        // Submit once; every poll asks about the submitted task.
        Assert.Equal(1, fakes.Submit.Count);
        Assert.Equal("happy-1", fakes.Submit.Calls[0].Input.Job.JobId);
        Assert.Null(fakes.Submit.Calls[0].Input.ReservedSlot);
        Assert.All(fakes.GetTask.Calls, c => Assert.Equal(new TaskQuery("happy-1", "wanx-v1", WorkflowFakes.TaskId), c.Input with { NotBefore = null }));
        Assert.All(fakes.GetTask.Calls, c => Assert.NotNull(c.Input.NotBefore));

        // One download per result item, all started before any finished, each with its URL and seed + index.
        Assert.Equal(images, fakes.Download.Count);
        Assert.True(startedWhenFirstFinished >= together, $"{startedWhenFirstFinished} download(s) had started when the first finished");
        Assert.Equal([0, 1, 2], fakes.Download.Calls.Select(c => c.Input.Index).Order());
        Assert.All(fakes.Download.Calls, c =>
        {
            Assert.Equal(WorkflowFakes.ResultUrl(c.Input.Index), c.Input.Result.Url);
            Assert.Equal(TestJobs.Seed + c.Input.Index, c.Input.Seed);
            Assert.Equal(new JobOutput(TestJobs.Container, TestJobs.Prefix), c.Input.Output);
        });
        Assert.Equal(images, result.Images.Count);
        Assert.All(result.Images.Select((image, i) => (image, i)), x =>
        {
            Assert.Equal(x.i, x.image.Index);
            Assert.Null(x.image.Error);
            Assert.Equal($"tests/happy-1/{x.i}.png", x.image.BlobName);
            Assert.Equal(1000 + x.i, x.image.Bytes);
        });

        // Manifest, completion queue and webhook: once each, all carrying the completed CloudEvent of this result.
        Assert.Equal(1, fakes.WriteManifest.Count);
        Assert.Equal(1, fakes.Queue.Count);
        Assert.Equal(1, fakes.Webhook.Count);
        foreach (var delivery in new[] { fakes.WriteManifest, fakes.Queue, fakes.Webhook }.Select(f => f.Calls[0].Input))
        {
            Assert.Equal(CompletionEventTypes.Completed, delivery.Event.Type);
            Assert.Equal("happy-1/completed", delivery.Event.Id);
            Assert.Equal("happy-1", delivery.Event.Subject);
            Assert.Equal(JobStatus.Succeeded, delivery.Event.Data.Status);
            Assert.Equal(result.CompletedAt, delivery.Event.Data.CompletedAt);
            Assert.Equal(images, delivery.Event.Data.Images.Count);
        }

        Assert.True(fakes.WriteManifest.Calls[0].At <= fakes.Queue.Calls[0].At, "the manifest is written before the completion is announced");
        Assert.Equal(new JobProgress("done", WorkflowFakes.TaskId, "SUCCEEDED", 3), metadata.ReadCustomStatusAs<JobProgress>());

        // The app's converter is in effect: DurableJson's web defaults write camelCase names.
        Assert.Contains("\"jobId\":\"happy-1\"", metadata.SerializedOutput, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"Succeeded\"", metadata.SerializedOutput, StringComparison.Ordinal);
    }

    // 2. Submit retries -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_SubmitThrottledTwice_RetriesAfterBackoffAndRetryAfterThenSucceeds()
    {
        // The first backoff is 1 s × (0.5–1.5 jitter): a 2 s Retry-After must win over it.
        var retryAfter = TimeSpan.FromSeconds(2);
        var throttling = new JobError("Throttling", "Requests throttling triggered.");
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, call) => call switch
        {
            0 => WorkflowFakes.Refused(throttling, retryable: true, retryAfter),
            1 => WorkflowFakes.Refused(throttling, retryable: true),
            _ => WorkflowFakes.Submitted(),
        });
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("throttled-1"));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(WorkflowFakes.TaskId, result.TaskId);
        Assert.Equal(3, fakes.Submit.Count);
        var calls = fakes.Submit.Calls;
        Assert.All(calls, c => Assert.Null(c.Input.ReservedSlot));

        // The retry waited on a durable timer for at least Retry-After (the timer fires no earlier than it was set for),
        // and the second retry at least the second backoff's smallest value, 2 s × 0.5.
        Assert.True(calls[1].At - calls[0].At >= retryAfter, $"first retry after {calls[1].At - calls[0].At}");
        Assert.True(calls[2].At - calls[1].At >= TimeSpan.FromSeconds(1), $"second retry after {calls[2].At - calls[1].At}");
        Assert.Equal(WorkflowFakes.DefaultResults, fakes.Download.Count);
    }

    [Fact]
    public async Task RunAsync_SubmitRefusedNotRetryable_FailsWithThatErrorAfterOneCall()
    {
        var refusal = new JobError("InvalidParameter", "The size is not supported.");
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, _) => WorkflowFakes.Refused(refusal, retryable: false));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("refused-1"));

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(refusal, result.Error);
        Assert.Null(result.TaskId);
        Assert.Equal(1, fakes.Submit.Count);
        Assert.Equal(0, fakes.GetTask.Count);
        Assert.Equal(0, fakes.WriteManifest.Count); // no images, no manifest
        Assert.Equal(1, fakes.Queue.Count);
        Assert.Equal(CompletionEventTypes.Failed, fakes.Queue.Calls[0].Input.Event.Type);
        Assert.Equal("refused-1/failed", fakes.Queue.Calls[0].Input.Event.Id);
    }

    // MaxSubmitAttempts (10) is not reachable in a unit test: the backoff between attempts is 2^(n-1) s capped at 60 s
    // with ×0.5–1.5 jitter, at least 121.5 s over 9 waits. The deadline ends the same loop: a retry whose wait would
    // pass the job's timeout is not waited for.
    [Fact]
    public async Task RunAsync_SubmitRetryWouldPassDeadline_TimesOutNamingTheRefusalWithoutWaiting()
    {
        var throttling = new JobError("Throttling", "Requests throttling triggered.");
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, _) => WorkflowFakes.Refused(throttling, retryable: true, TimeSpan.FromMinutes(5)));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("deadline-1", timeoutSeconds: 60));

        Assert.Equal(JobStatus.TimedOut, result.Status);
        Assert.Equal("Timeout", result.Error?.Code);
        Assert.Contains("Throttling: Requests throttling triggered.", result.Error?.Message, StringComparison.Ordinal);
        Assert.Contains("never submitted", result.Error?.Message, StringComparison.Ordinal);
        Assert.Null(result.TaskId);
        Assert.Equal(1, fakes.Submit.Count);
        Assert.True(result.CompletedAt - result.StartedAt < TimeSpan.FromMinutes(1), "the job did not wait for a retry past its deadline");
        Assert.Equal(1, fakes.Queue.Count);
    }

    // 3. Pacing -------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_SubmitPaced_WaitsForSlotAndPassesItBackWithoutCountingAttempts()
    {
        // More paced answers than MaxSubmitAttempts: if they counted, the job would fail before the real submit.
        var paced = ImageJobOrchestrator.MaxSubmitAttempts + 1;
        var slots = new DateTimeOffset[paced];
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, call) =>
        {
            if (call >= paced)
            {
                return WorkflowFakes.Submitted();
            }

            slots[call] = DateTimeOffset.UtcNow + ImageJobOrchestrator.PacedWakeLead + TimeSpan.FromMilliseconds(40);
            return WorkflowFakes.Paced(slots[call]);
        });
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("paced-1"));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(WorkflowFakes.TaskId, result.TaskId);
        var calls = fakes.Submit.Calls;
        Assert.Equal(paced + 1, calls.Count);
        Assert.Null(calls[0].Input.ReservedSlot);
        for (var i = 1; i < calls.Count; i++)
        {
            // Each call brings back the slot the previous one reserved, and comes PacedWakeLead ahead of it (the activity
            // waits the rest in place), not earlier.
            Assert.Equal(slots[i - 1], calls[i].Input.ReservedSlot);
            Assert.True(calls[i].At >= slots[i - 1] - ImageJobOrchestrator.PacedWakeLead && calls[i].At < slots[i - 1],
                $"call {i} at {calls[i].At:O} for its slot {slots[i - 1]:O}");
        }
    }

    [Fact]
    public async Task RunAsync_PacedSlotPastDeadline_TimesOutWithoutWaiting()
    {
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, _) => WorkflowFakes.Paced(DateTimeOffset.UtcNow.AddHours(1)));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("paced-late-1", timeoutSeconds: 60));

        Assert.Equal(JobStatus.TimedOut, result.Status);
        Assert.Equal("Timeout", result.Error?.Code);
        Assert.Contains("never submitted", result.Error?.Message, StringComparison.Ordinal);
        Assert.Equal(1, fakes.Submit.Count);
        Assert.Equal(0, fakes.GetTask.Count);
        Assert.Equal(CompletionEventTypes.Failed, Assert.Single(fakes.Queue.Calls).Input.Event.Type);
    }

    // A cancel raised before the job has a task ends it at once, unpaid: not after the wait (when it would submit, pay
    // and then have to cancel at the provider, which a task already running refuses).
    [Fact]
    public async Task RunAsync_CancelEventWhileWaitingForSubmitSlot_EndsCanceledWithoutSubmitting()
    {
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, _) => WorkflowFakes.Paced(DateTimeOffset.UtcNow.AddMinutes(10)));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("cancel-paced-1", Webhook()));
        await fakes.Submit.WaitForCallsAsync(1);

        await harness.Client.RaiseEventAsync(id, ImageJobOrchestrator.CancelEventName);
        var result = (await harness.WaitForCompletionAsync(id)).ReadOutputAs<JobResult>()!;

        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("Canceled", result.Error?.Code);
        Assert.Equal("The job was cancelled while it waited for its submit slot; nothing was submitted.", result.Error?.Message);
        Assert.Null(result.TaskId);
        Assert.Equal(1, fakes.Submit.Count);
        Assert.Equal(0, fakes.CancelTask.Count); // no task to cancel
        Assert.Equal(0, fakes.GetTask.Count);
        Assert.Equal(CompletionEventTypes.Failed, Assert.Single(fakes.Queue.Calls).Input.Event.Type);
        Assert.Equal(1, fakes.Webhook.Count);
    }

    [Fact]
    public async Task RunAsync_CancelEventWhileBackingOffAfterThrottling_EndsCanceledWithoutSubmittingAgain()
    {
        var throttling = new JobError("Throttling", "Requests throttling triggered.");
        var fakes = new WorkflowFakes();
        fakes.Submit.Answer((_, _) => WorkflowFakes.Refused(throttling, retryable: true, TimeSpan.FromMinutes(5)));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("cancel-backoff-1"));
        await fakes.Submit.WaitForCallsAsync(1);

        await harness.Client.RaiseEventAsync(id, ImageJobOrchestrator.CancelEventName);
        var result = (await harness.WaitForCompletionAsync(id)).ReadOutputAs<JobResult>()!;

        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("Canceled", result.Error?.Code);
        Assert.Contains("Throttling: Requests throttling triggered.", result.Error?.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was submitted", result.Error?.Message, StringComparison.Ordinal);
        Assert.Null(result.TaskId);
        Assert.Equal(1, fakes.Submit.Count);
        Assert.Equal(0, fakes.CancelTask.Count);
        Assert.Equal(CompletionEventTypes.Failed, Assert.Single(fakes.Queue.Calls).Input.Event.Type);
    }

    // 4. Timeout ------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_TaskRunsPastTimeout_CancelsTaskAndTimesOut()
    {
        var fakes = new WorkflowFakes();
        // A 100 ms rate window: polls every 150 ms (how many fit in the 1 s depends on the host's warm-up).
        fakes.Submit.Answer((_, _) => WorkflowFakes.Submitted(rateWindow: 0.1));
        fakes.GetTask.Answer((_, _) => WorkflowFakes.Running());
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("timeout-1", timeoutSeconds: 1));

        Assert.Equal(JobStatus.TimedOut, result.Status);
        Assert.Equal("Timeout", result.Error?.Code);
        Assert.Contains("cancelled at the provider", result.Error?.Message, StringComparison.Ordinal);
        Assert.Equal("RUNNING", result.ProviderStatus);
        Assert.Equal(fakes.GetTask.Count, result.Polls);
        Assert.True(result.DetectedAt - result.StartedAt >= TimeSpan.FromSeconds(1), "the last poll is at the deadline");
        Assert.Equal(1, fakes.CancelTask.Count);
        Assert.Equal(new TaskQuery("timeout-1", "wanx-v1", WorkflowFakes.TaskId), fakes.CancelTask.Calls[0].Input);
        Assert.Equal(0, fakes.Download.Count);
        Assert.Equal(CompletionEventTypes.Failed, fakes.Queue.Calls.Single().Input.Event.Type);
    }

    // 5. Cancel -------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_CancelEventWhileWaiting_CancelsTaskAndEndsCanceled()
    {
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, _) => WorkflowFakes.Running());
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("cancel-1"));
        await fakes.GetTask.WaitForCallsAsync(1);

        await harness.Client.RaiseEventAsync(id, ImageJobOrchestrator.CancelEventName);
        var result = (await harness.WaitForCompletionAsync(id)).ReadOutputAs<JobResult>()!;

        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("Canceled", result.Error?.Code);
        Assert.Equal("The job was cancelled; the task was cancelled at the provider.", result.Error?.Message);
        Assert.Equal(WorkflowFakes.TaskId, result.TaskId);
        Assert.Equal(1, fakes.CancelTask.Count);
        Assert.Equal(WorkflowFakes.TaskId, fakes.CancelTask.Calls[0].Input.TaskId);
        Assert.Equal(0, fakes.Download.Count);
        Assert.Equal(1, fakes.Queue.Count);
    }

    [Fact]
    public async Task RunAsync_CancelEventButProviderCannotCancel_SaysTaskCouldNotBeCancelled()
    {
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, _) => WorkflowFakes.Running());
        fakes.CancelTask.Answer((_, _) => false);
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("cancel-2"));
        await fakes.GetTask.WaitForCallsAsync(1);

        await harness.Client.RaiseEventAsync(id, ImageJobOrchestrator.CancelEventName);
        var result = (await harness.WaitForCompletionAsync(id)).ReadOutputAs<JobResult>()!;

        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("Canceled", result.Error?.Code);
        Assert.Contains("could not be cancelled", result.Error?.Message, StringComparison.Ordinal);
        Assert.Equal(1, fakes.CancelTask.Count);
    }

    // CancelRetry makes 3 attempts, 2 and 4 s apart: this test takes about 6 s.
    [Fact]
    public async Task RunAsync_CancelRequestFailsEveryAttempt_EndsCanceledAndStillNotifies()
    {
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, _) => WorkflowFakes.Running());
        fakes.CancelTask.Script = (_, _) => throw new HttpRequestException("The provider answered 500.");
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("cancel-3", Webhook()));
        await fakes.GetTask.WaitForCallsAsync(1);

        await harness.Client.RaiseEventAsync(id, ImageJobOrchestrator.CancelEventName);
        var done = await harness.WaitForCompletionAsync(id);
        var result = done.ReadOutputAs<JobResult>()!;

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("The job was cancelled; the cancel request to the provider failed, so the task may still run there.", result.Error?.Message);
        Assert.Equal(3, fakes.CancelTask.Count);
        Assert.Equal(CompletionEventTypes.Failed, Assert.Single(fakes.Queue.Calls).Input.Event.Type);
        Assert.Equal(1, fakes.Webhook.Count);
    }

    // 6–8. Provider outcome and downloads -----------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_ProviderFailsTask_FailsWithProviderErrorAndDownloadsNothing()
    {
        var providerError = new JobError("DataInspectionFailed", "Input data may contain inappropriate content.");
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, _) => WorkflowFakes.ProviderFailed(providerError));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("failed-1"));

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(providerError, result.Error);
        Assert.Equal("FAILED", result.ProviderStatus);
        Assert.Equal(WorkflowFakes.TaskId, result.TaskId);
        Assert.Equal(1, result.Polls);
        Assert.Empty(result.Images);
        Assert.Null(result.Manifest);
        Assert.Equal(0, fakes.Download.Count);
        Assert.Equal(0, fakes.CancelTask.Count);
        Assert.Equal(0, fakes.WriteManifest.Count);
        Assert.Equal(CompletionEventTypes.Failed, fakes.Queue.Calls.Single().Input.Event.Type);
    }

    [Fact]
    public async Task RunAsync_OneResultMissingAndOneDownloadFailed_SucceedsWithPerImageErrors()
    {
        var missing = new JobError("DataInspectionFailed", "This image was filtered.");
        var expired = new JobError("ResultUrlExpired", "The result URL expired.");
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, _) => WorkflowFakes.Succeeded(
        [
            new TaskResultItem(WorkflowFakes.ResultUrl(0), null, null, null),
            new TaskResultItem(null, missing, null, null),
            new TaskResultItem(WorkflowFakes.ResultUrl(2), null, null, null),
            new TaskResultItem(WorkflowFakes.ResultUrl(3), null, null, null),
        ]));
        fakes.Download.Answer((request, _) => request.Index == 2 ? JobImage.Failed(2, expired) : WorkflowFakes.Stored(request));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("partial-1", n: 4));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Null(result.Error);
        Assert.Equal([0, 1, 2, 3], result.Images.Select(i => i.Index));
        Assert.Equal(missing, result.Images[1].Error);
        Assert.Null(result.Images[1].BlobName);
        Assert.Equal(expired, result.Images[2].Error);
        Assert.Null(result.Images[2].BlobName);
        Assert.All(new[] { result.Images[0], result.Images[3] }, image =>
        {
            Assert.Null(image.Error);
            Assert.Equal($"tests/partial-1/{image.Index}.png", image.BlobName);
        });
        Assert.Equal([0, 2, 3], fakes.Download.Calls.Select(c => c.Input.Index).Order()); // nothing to download for index 1
        Assert.Equal(1, fakes.WriteManifest.Count);
        Assert.Equal(CompletionEventTypes.Completed, fakes.Queue.Calls.Single().Input.Event.Type);
    }

    [Fact]
    public async Task RunAsync_EveryDownloadFails_Fails()
    {
        var fakes = new WorkflowFakes();
        fakes.Download.Answer((request, _) => JobImage.Failed(request.Index, new JobError("UnexpectedContentType", $"Image {request.Index} is text/html.")));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("all-failed-1"));

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(new JobError("UnexpectedContentType", "Image 0 is text/html."), result.Error);
        Assert.Equal(WorkflowFakes.DefaultResults, result.Images.Count);
        Assert.All(result.Images, i => Assert.NotNull(i.Error));
        Assert.Equal(WorkflowFakes.DefaultResults, fakes.Download.Count);
        Assert.Equal(CompletionEventTypes.Failed, fakes.Queue.Calls.Single().Input.Event.Type);
    }

    // 9. Webhook delivery ---------------------------------------------------------------------------------------------

    // Failing on every attempt is not tested: DeliveryRetry makes 6 attempts 2, 4, 8, 16 and 32 s apart (62 s).
    [Fact]
    public async Task RunAsync_WebhookRefusedByOutboundGuard_NotRetriedAndJobStillSucceeds()
    {
        var fakes = new WorkflowFakes();
        fakes.Webhook.Script = (_, _) => throw new OutboundUrlRefusedException("hooks.example.com resolves to 10.0.0.1, a private address.");
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("webhook-refused-1", Webhook()));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(1, fakes.Webhook.Count);
        Assert.Equal(1, fakes.Queue.Count);
        Assert.Equal(1, fakes.WriteManifest.Count);
    }

    [Fact]
    public async Task RunAsync_WebhookFailsOnce_RetriedByDeliveryPolicy()
    {
        var fakes = new WorkflowFakes();
        fakes.Webhook.Script = (_, call) => call == 0
            ? throw new InvalidOperationException("IMAGEJOBS_WEBHOOK_SECRET is not set; webhooks cannot be signed.")
            : Task.FromResult(true);
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("webhook-retry-1", Webhook()));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(2, fakes.Webhook.Count);
        var calls = fakes.Webhook.Calls;
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(2), $"retried after {calls[1].At - calls[0].At}");
        Assert.Equal(calls[0].Input.Event.Id, calls[1].Input.Event.Id); // the same webhook-id on every attempt
        Assert.Equal(1, fakes.Queue.Count);
    }

    // A channel that fails for good: here a refusal, which DeliveryRetry never retries, so the test need not wait out
    // six attempts.
    [Fact]
    public async Task RunAsync_CompletionQueueFailsForGood_WebhookAndEventStillSent_JobStillSucceeds()
    {
        var fakes = new WorkflowFakes();
        fakes.Queue.Script = (_, _) => throw new OutboundUrlRefusedException("The completion queue is not reachable.");
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var waiter = await harness.Client.ScheduleNewOrchestrationInstanceAsync(
            WorkflowFakes.WaiterName, ImageJobParser.DefaultEventName, new StartOrchestrationOptions("waiter-queue-1"));
        await harness.Client.WaitForInstanceStartAsync(waiter);

        var notify = Webhook();
        notify["instanceId"] = waiter;
        var (result, done) = await harness.RunJobAsync(TestJobs.Create("queue-fails-1", notify));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(1, fakes.Queue.Count);
        Assert.Equal(1, fakes.Webhook.Count);
        var received = (await harness.WaitForCompletionAsync(waiter)).ReadOutputAs<JsonElement>();
        Assert.Equal("queue-fails-1/completed", received.GetProperty("id").GetString());
    }

    // StorageRetry makes 5 attempts, 1, 2, 4 and 8 s apart: this test takes about 15 s.
    [Fact]
    public async Task RunAsync_ManifestFailsEveryAttempt_EventsSentWithoutAManifest_JobStillSucceeds()
    {
        var fakes = new WorkflowFakes();
        fakes.WriteManifest.Script = (_, _) => throw new InvalidOperationException("The results container refused the manifest.");
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, done) = await harness.RunJobAsync(TestJobs.Create("manifest-fails-1", Webhook()));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(5, fakes.WriteManifest.Count);
        Assert.Null(result.Manifest);
        Assert.Equal(WorkflowFakes.DefaultResults, result.Images.Count(i => i.Error is null));
        var queued = Assert.Single(fakes.Queue.Calls).Input.Event.Data!;
        var hooked = Assert.Single(fakes.Webhook.Calls).Input.Event.Data!;
        Assert.Null(queued.Manifest); // no event names a manifest that was never written
        Assert.Null(hooked.Manifest);
    }

    // The webhook's usual failure. TaskFailureDetails.IsCausedBy throws AmbiguousMatchException for
    // "System.Net.Http.HttpRequestException" (netstandard.dll forwards that name too), and DurableTask.Core's retry
    // interceptor then stops retrying: with a HandleFailure built on it, the webhook got one attempt.
    [Fact]
    public async Task RunAsync_WebhookAnswers503Once_RetriedByDeliveryPolicy()
    {
        var fakes = new WorkflowFakes();
        fakes.Webhook.Script = (_, call) => call == 0
            ? throw new HttpRequestException("The webhook answered 503.", null, System.Net.HttpStatusCode.ServiceUnavailable)
            : Task.FromResult(true);
        await using var harness = await OrchestrationHarness.StartAsync(fakes);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("webhook-503-1", Webhook()));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(2, fakes.Webhook.Count);
    }

    // 10. notify.instanceId -------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_NotifyInstanceId_SendsCompletedCloudEventToThatOrchestration()
    {
        var fakes = new WorkflowFakes();
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var waiter = await harness.Client.ScheduleNewOrchestrationInstanceAsync(
            WorkflowFakes.WaiterName, ImageJobParser.DefaultEventName, new StartOrchestrationOptions("waiter-1"));
        await harness.Client.WaitForInstanceStartAsync(waiter);

        var (result, _) = await harness.RunJobAsync(TestJobs.Create("notify-1", new JsonObject { ["instanceId"] = waiter }));
        var received = (await harness.WaitForCompletionAsync(waiter)).ReadOutputAs<JsonElement>();

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal("1.0", received.GetProperty("specversion").GetString());
        Assert.Equal(CompletionEventTypes.Completed, received.GetProperty("type").GetString());
        Assert.Equal("notify-1", received.GetProperty("subject").GetString());
        Assert.Equal("notify-1/completed", received.GetProperty("id").GetString());
        Assert.Equal("/imagejobs/jobs", received.GetProperty("source").GetString());
        var data = received.GetProperty("data");
        Assert.Equal("notify-1", data.GetProperty("jobId").GetString());
        Assert.Equal("Succeeded", data.GetProperty("status").GetString());
        Assert.Equal(WorkflowFakes.DefaultResults, data.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public async Task RunAsync_NotifyInstanceIdWithEventName_SendsFailedCloudEventUnderThatName()
    {
        var fakes = new WorkflowFakes();
        fakes.GetTask.Answer((_, _) => WorkflowFakes.ProviderFailed(new JobError("InternalError", "The provider failed.")));
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var waiter = await harness.Client.ScheduleNewOrchestrationInstanceAsync(WorkflowFakes.WaiterName, "JobDone", new StartOrchestrationOptions("waiter-2"));
        await harness.Client.WaitForInstanceStartAsync(waiter);

        await harness.RunJobAsync(TestJobs.Create("notify-2", new JsonObject { ["instanceId"] = waiter, ["eventName"] = "JobDone" }));
        var received = (await harness.WaitForCompletionAsync(waiter)).ReadOutputAs<JsonElement>();

        Assert.Equal(CompletionEventTypes.Failed, received.GetProperty("type").GetString());
        Assert.Equal("notify-2", received.GetProperty("subject").GetString());
        Assert.Equal("notify-2/failed", received.GetProperty("id").GetString());
        Assert.Equal("InternalError", received.GetProperty("data").GetProperty("error").GetProperty("code").GetString());
    }

    // 10b. Poll schedule --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(-18.0, true)] // accepted 18 s before the episode that reads it: counted from then
    [InlineData(3600.0, false)] // an activity clock an hour ahead: never later than the orchestration's own clock
    public async Task RunAsync_FirstPoll_CountsTheTaskFromWhenTheProviderAcceptedIt(double acceptedOffsetSeconds, bool fromAccepted)
    {
        // 20–30 s tasks at the real rate window: first check at Min + (1.5 s lag − 1 s runtime reserve) after the start.
        var window = new DurationWindow(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30));
        var firstCheck = window.Min + PollSchedule.Planned(window.Min);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fakes = new WorkflowFakes();
        DateTimeOffset accepted = default;
        fakes.Submit.Answer((_, _) =>
        {
            accepted = DateTimeOffset.UtcNow.AddSeconds(acceptedOffsetSeconds);
            return WorkflowFakes.Submitted(window: window, rateWindow: 1) with { SubmittedAt = accepted };
        });
        fakes.GetTask.Script = async (_, _) =>
        {
            await release.Task.WaitAsync(OrchestrationHarness.Patience);
            return WorkflowFakes.Succeeded(1);
        };
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("schedule-1", n: 1));

        await fakes.Submit.WaitForCallsAsync(1);
        JobProgress? waiting = null;
        var until = DateTime.UtcNow + OrchestrationHarness.Patience;
        while (waiting?.Phase != "waiting" && DateTime.UtcNow < until)
        {
            waiting = await harness.GetProgressAsync(id);
            await Task.Delay(20);
        }

        var readAt = DateTime.UtcNow;
        Assert.NotNull(waiting?.NextPollAt);
        if (fromAccepted)
        {
            Assert.Equal(accepted.UtcDateTime + firstCheck, waiting.NextPollAt.Value, TimeSpan.FromMilliseconds(1));
        }
        else
        {
            // Counted from the episode (before this read), not from the hour-ahead clock.
            Assert.InRange(waiting.NextPollAt.Value, readAt + firstCheck - OrchestrationHarness.Patience, readAt + firstCheck);
        }

        if (fromAccepted)
        {
            release.SetResult();
            var done = await harness.WaitForCompletionAsync(id);
            Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);

            // The query carries the planned time, for the activity to wait out what a whole-second timer woke early for.
            var poll = Assert.Single(fakes.GetTask.Calls);
            Assert.Equal(waiting.NextPollAt.Value, poll.Input.NotBefore!.Value.UtcDateTime, TimeSpan.FromMilliseconds(1));
        }
        else
        {
            await harness.Client.TerminateInstanceAsync(id);
            release.SetResult();
        }
    }

    // 11. Custom status -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task RunAsync_WhilePollsArePending_CustomStatusShowsWaitingWithPolls()
    {
        var firstPoll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondPoll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fakes = new WorkflowFakes();
        fakes.GetTask.Script = async (_, poll) =>
        {
            await (poll == 0 ? firstPoll : secondPoll).Task.WaitAsync(OrchestrationHarness.Patience);
            return poll == 0 ? WorkflowFakes.Running() : WorkflowFakes.Succeeded(1);
        };
        await using var harness = await OrchestrationHarness.StartAsync(fakes);
        var id = await harness.StartJobAsync(TestJobs.Create("status-1", n: 1));

        await fakes.GetTask.WaitForCallsAsync(1);
        var beforeFirst = await harness.GetProgressAsync(id);
        firstPoll.SetResult();
        await fakes.GetTask.WaitForCallsAsync(2);
        var beforeSecond = await harness.GetProgressAsync(id);
        secondPoll.SetResult();
        var done = (await harness.WaitForCompletionAsync(id)).ReadCustomStatusAs<JobProgress>();

        Assert.NotNull(beforeFirst);
        Assert.Equal(("waiting", WorkflowFakes.TaskId, "PENDING", 0), (beforeFirst.Phase, beforeFirst.TaskId, beforeFirst.ProviderStatus, beforeFirst.Polls));
        Assert.NotNull(beforeFirst.Eta);
        Assert.NotNull(beforeFirst.NextPollAt);
        Assert.NotNull(beforeSecond);
        Assert.Equal(("waiting", WorkflowFakes.TaskId, "RUNNING", 1), (beforeSecond.Phase, beforeSecond.TaskId, beforeSecond.ProviderStatus, beforeSecond.Polls));
        Assert.True(beforeSecond.NextPollAt > beforeFirst.NextPollAt, "the next poll moved on");
        Assert.Equal(new JobProgress("done", WorkflowFakes.TaskId, "SUCCEEDED", 2), done);
    }
}
