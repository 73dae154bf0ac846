using System.Text.Json;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Provider;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow.Orchestrations;

/// <summary>
/// One image job, top to bottom: submit the task (paying once), wait on durable timers while polling its status, fan
/// out the result downloads into blob storage, write the manifest, and raise the completion events. The output is the
/// <see cref="JobResult"/> every completion event carries.
/// </summary>
public sealed class ImageJobOrchestrator : TaskOrchestrator<ImageJob, JobResult>
{
    private static readonly TaskOptions StorageRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(30)));
    private static readonly TaskOptions QueryRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(8, TimeSpan.FromSeconds(2), 2, TimeSpan.FromMinutes(1)));

    // Cancelling at the provider is best effort (PENDING tasks only): three attempts over about 6 s, then the job ends
    // saying the cancel request failed.
    private static readonly TaskOptions CancelRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromSeconds(2), 2));
    private static readonly TaskOptions DeliveryRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(6, TimeSpan.FromSeconds(2), 2, TimeSpan.FromMinutes(2))
    {
        // A URL the outbound guard refuses (e.g. a webhook redirecting to a private address) stays refused. Matched by
        // type name: TaskFailureDetails.IsCausedBy resolves the failure's type by name across every loaded assembly and
        // throws for names two assemblies answer to (System.Net.Http.HttpRequestException: netstandard forwards it),
        // which would silently stop every retry of a failing webhook.
        HandleFailure = failure => !IsCausedBy(failure, typeof(Outbound.OutboundUrlRefusedException)),
    });

    private static readonly PollScheduleOptions Schedule = new();

    /// <summary>The external event that asks a job to stop (raised by <c>POST /api/jobs/{id}/cancel</c>).</summary>
    public const string CancelEventName = "CancelJob";

    /// <summary>
    /// How long before its submit slot a paced job wakes: more than a durable timer's error (about a second), less than
    /// <see cref="ProviderPacing.MaxInlineWait"/>, so the submit activity waits the rest in place and sends on time.
    /// </summary>
    public static readonly TimeSpan PacedWakeLead = TimeSpan.FromSeconds(1.5);

    /// <summary>How many throttled or failed submits are retried before the job fails.</summary>
    public const int MaxSubmitAttempts = 10;

    /// <summary>
    /// How many polls one execution makes before the job continues as new with where its wait stood
    /// (<see cref="ImageJob.Waiting"/>): a task that runs for hours keeps a history of at most this many polls (about
    /// eight rows each) instead of one that grows with every poll and is replayed in full at each episode.
    /// </summary>
    public const int PollsPerExecution = 50;

    /// <inheritdoc />
    public override async Task<JobResult> RunAsync(TaskOrchestrationContext context, ImageJob input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var job = input;
        var log = context.CreateReplaySafeLogger<ImageJobOrchestrator>();
        var resumed = job.Waiting;
        var startedAt = resumed?.StartedAt ?? context.CurrentUtcDateTime;
        var deadline = startedAt + job.Timeout;

        // A cancel is listened for from the start: one raised while the job still waits to submit ends it unpaid.
        SubmitOutcome submitted;
        (TaskSnapshot? Task, int Polls, WaitEnd Ended, JobWaitState? Next) waited;
        using (var stopListening = new CancellationTokenSource())
        {
            var cancelRequested = context.WaitForExternalEvent<JsonElement?>(CancelEventName, stopListening.Token);
            try
            {
                if (resumed is not null)
                {
                    // A later execution of a long wait: submitted already, so it goes on polling.
                    submitted = resumed.Submitted;
                }
                else
                {
                    // 1 + 2. Resolve the inputs and submit, paying once (the activity records intent and task id).
                    context.SetCustomStatus(new JobProgress("submitting"));
                    WaitEnd? stopped;
                    (submitted, stopped) = await SubmitAsync(context, job, deadline, cancelRequested);
                    if (submitted.TaskId is null)
                    {
                        return await FinishAsync(context, job, Result(job, startedAt, context, JobStatus.Failed) with
                        {
                            Status = stopped switch
                            {
                                WaitEnd.TimedOut => JobStatus.TimedOut,
                                WaitEnd.Canceled => JobStatus.Canceled,
                                _ => JobStatus.Failed,
                            },
                            Error = submitted.Error,
                        });
                    }

                    Log.TaskSubmitted(log, job.JobId, submitted.TaskId, submitted.Reused);
                }

                // 3. Wait on durable timers while polling, on a model-aware schedule, until the task ends, the job
                //    times out, or someone cancels it.
                waited = await WaitForTaskAsync(context, job, submitted, deadline, cancelRequested, resumed);
            }
            finally
            {
                stopListening.Cancel();
            }
        }

        if (waited.Next is { } next)
        {
            // A cancel raised after this point is carried over to the next execution by the framework.
            context.ContinueAsNew(job with { Waiting = next with { StartedAt = startedAt } }, preserveUnprocessedEvents: true);
            return null!;
        }

        var (task, polls, ended, _) = waited;
        var result = Result(job, startedAt, context, JobStatus.Failed) with
        {
            TaskId = submitted.TaskId,
            ProviderStatus = task?.Status,
            Polls = polls,
            DetectedAt = context.CurrentUtcDateTime,
        };
        if (ended != WaitEnd.TaskEnded)
        {
            bool? canceled; // null: the request itself failed
            try
            {
                canceled = await context.CallActivityAsync<bool>(nameof(CancelTaskActivity), new TaskQuery(job.JobId, job.Model, submitted.TaskId!), CancelRetry);
            }
            catch (TaskFailedException ex)
            {
                // The job still ends, on every channel; the provider's task is left to finish or expire.
                Log.CancelRequestFailed(log, job.JobId, ex.FailureDetails.ToString());
                canceled = null;
            }

            var what = ended == WaitEnd.TimedOut ? $"The job did not finish within {job.Timeout}" : "The job was cancelled";
            return await FinishAsync(context, job, result with
            {
                Status = ended == WaitEnd.TimedOut ? JobStatus.TimedOut : JobStatus.Canceled,
                Error = new JobError(ended == WaitEnd.TimedOut ? "Timeout" : "Canceled", canceled switch
                {
                    true => $"{what}; the task was cancelled at the provider.",
                    false => $"{what}; the task was already running at the provider and could not be cancelled.",
                    null => $"{what}; the cancel request to the provider failed, so the task may still run there.",
                }),
            });
        }

        if (!task!.IsSucceeded)
        {
            return await FinishAsync(context, job, result with
            {
                Error = task.Error ?? new JobError(task.Status, $"The provider ended the task as {task.Status}."),
            });
        }

        // 4. Fan out the downloads: one activity per image, in parallel; per-image failures are kept.
        context.SetCustomStatus(new JobProgress("downloading", submitted.TaskId, task.Status, polls));
        var seed = job.Parameters["seed"] is { } s && s.GetValueKind() == System.Text.Json.JsonValueKind.Number ? s.GetValue<long>() : (long?)null;
        var downloads = task.Results.Select((item, index) => item.Url is null
            ? Task.FromResult(JobImage.Failed(index, item.Error ?? new JobError("NoResult", "The provider returned no image for this index.")))
            : context.CallActivityAsync<JobImage>(nameof(DownloadImageActivity),
                new DownloadRequest(job.JobId, job.Model, job.Output, submitted.TaskId!, index, item, seed is null ? null : seed + index), StorageRetry));
        var images = await Task.WhenAll(downloads);
        result = result with
        {
            Status = images.Any(i => i.Error is null) ? JobStatus.Succeeded : JobStatus.Failed,
            Images = images,
            Error = images.Any(i => i.Error is null) ? null : images.Select(i => i.Error).FirstOrDefault(),
            Manifest = job.Output.ManifestBlobName(job.JobId),
        };

        return await FinishAsync(context, job, result);
    }

    // The outcome, and why the job stopped before it could submit (TimedOut, Canceled), if it did.
    private static async Task<(SubmitOutcome Outcome, WaitEnd? Stopped)> SubmitAsync(
        TaskOrchestrationContext context, ImageJob job, DateTime deadline, Task cancelRequested)
    {
        DateTimeOffset? reserved = null;
        var attempt = 0;
        SubmitOutcome outcome;
        do
        {
            outcome = await context.CallActivityAsync<SubmitOutcome>(nameof(SubmitTaskActivity), new SubmitRequest(job, reserved), StorageRetry);
            reserved = null;
            if (outcome.ReservedSlot is { } slot && outcome.TaskId is null)
            {
                // Our turn under the model's submit rate is later: wait for it without holding anything.
                if (slot.UtcDateTime > deadline)
                {
                    return (NotSubmitted(outcome, "Timeout",
                        $"The job did not finish within {job.Timeout}: its turn under the model's submit rate comes after that, so it was never submitted."),
                        WaitEnd.TimedOut);
                }

                // Wake ahead of the slot and let the activity wait the rest in place: a timer fires up to a second
                // early or late, and a send more than ProviderPacing.LateTolerance late would have to take a new slot.
                context.SetCustomStatus(new JobProgress("submitting", ProviderStatus: "QUEUED", NextPollAt: slot.UtcDateTime));
                if (await CanceledFirstAsync(cancelRequested, token => context.CreateTimer(slot.UtcDateTime - PacedWakeLead, token)))
                {
                    return (NotSubmitted(outcome, "Canceled", "The job was cancelled while it waited for its submit slot; nothing was submitted."), WaitEnd.Canceled);
                }

                reserved = slot;
                continue;
            }

            // A real answer from the provider (or a refusal before it): only these count as attempts.
            attempt++;
            if (outcome.TaskId is not null || !outcome.Retryable || attempt >= MaxSubmitAttempts)
            {
                break;
            }

            // Throttling and 5xx: back off on a durable timer, with jitter so many jobs don't retry in step.
            var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, attempt - 1)));
            var jitter = context.NewGuid().ToByteArray()[0] / 255.0;
            var delay = backoff * (0.5 + jitter);
            if (outcome.RetryAfter is { } retryAfter && retryAfter > delay)
            {
                delay = retryAfter;
            }

            var refusal = outcome.Error is { } e ? $"{e.Code}: {e.Message}" : "no reason given";
            if (context.CurrentUtcDateTime + delay > deadline)
            {
                return (NotSubmitted(outcome, "Timeout",
                    $"The job did not finish within {job.Timeout}: the provider refused its submit ({refusal}) and the next attempt would come after that, so it was never submitted."),
                    WaitEnd.TimedOut);
            }

            var retryAt = context.CurrentUtcDateTime + delay;
            context.SetCustomStatus(new JobProgress("submitting", ProviderStatus: outcome.Error?.Code, NextPollAt: retryAt));
            if (await CanceledFirstAsync(cancelRequested, token => context.WaitUntilAsync(retryAt, token)))
            {
                return (NotSubmitted(outcome, "Canceled",
                    $"The job was cancelled while it waited to retry its submit (the provider refused it: {refusal}); nothing was submitted."),
                    WaitEnd.Canceled);
            }
        }
        while (attempt < MaxSubmitAttempts);

        return (outcome, null);
    }

    private static SubmitOutcome NotSubmitted(SubmitOutcome outcome, string code, string message) =>
        outcome with { Error = new JobError(code, message), Retryable = false };

    // Waits for `wait` (given a token that cancels it) unless the cancel comes first; true when it did. The cancel is
    // checked first, so one already raised wins over a wait that is done at once.
    private static async Task<bool> CanceledFirstAsync(Task cancelRequested, Func<CancellationToken, Task> wait)
    {
        using var stopWaiting = new CancellationTokenSource();
        var waited = wait(stopWaiting.Token);
        if (await Task.WhenAny(cancelRequested, waited) == cancelRequested)
        {
            stopWaiting.Cancel();
            return true;
        }

        await waited;
        return false;
    }

    private enum WaitEnd
    {
        TaskEnded,
        TimedOut,
        Canceled,
    }

    // Polls until the task ends, the deadline, a cancel, or PollsPerExecution polls in this execution (then Next says
    // where the wait stands, for the next execution).
    private static async Task<(TaskSnapshot? Task, int Polls, WaitEnd Ended, JobWaitState? Next)> WaitForTaskAsync(
        TaskOrchestrationContext context, ImageJob job, SubmitOutcome submitted, DateTime deadline, Task cancelRequested, JobWaitState? resumed)
    {
        var query = new TaskQuery(job.JobId, job.Model, submitted.TaskId!);
        // The task runs from when the provider accepted it (the activity's clock, kept in history), not from this
        // episode, which starts an activity hop later; never later than now, should the two clocks disagree.
        var submittedAt = submitted.SubmittedAt?.UtcDateTime is { } accepted && accepted < context.CurrentUtcDateTime
            ? accepted
            : context.CurrentUtcDateTime;
        var window = submitted.Window;
        var schedule = Schedule.ForRateWindow(submitted.RateWindowScale);

        // Assume the task starts at once (it usually does); a PENDING answer says it is queued behind others.
        var running = resumed?.Running ?? true;
        var startedRunning = resumed?.StartedRunning ?? submittedAt;
        var providerStatus = resumed?.ProviderStatus ?? DashScopeTaskStatus.Pending.Value;
        var activeJobs = resumed?.ActiveJobs ?? 1;
        var queueWait = resumed?.QueueWait ?? TimeSpan.Zero;
        window = resumed?.Window ?? window;
        var firstPoll = resumed?.Polls ?? 0;
        for (var polls = firstPoll; ; )
        {
            var now = context.CurrentUtcDateTime;
            var elapsed = now - startedRunning;
            var next = now + PollSchedule.NextDelay(running, elapsed, window, activeJobs, queueWait, schedule);
            var final = next >= deadline;
            if (final)
            {
                next = deadline;
            }

            var eta = (running ? startedRunning : now) + window.Max;
            context.SetCustomStatus(new JobProgress("waiting", submitted.TaskId, providerStatus, polls, eta, next));
            // Near, not until: the query activity waits out the sub-second rest exactly (NotBefore), where
            // a re-wait on the provider's whole-second timers would wake up to a second late. The cancel first:
            // a wait within the timers' granularity takes no timer and is done at once, and a cancel raised
            // during the last query must still win over it.
            if (await CanceledFirstAsync(cancelRequested, token => context.WaitUntilNearAsync(next, token)))
            {
                return (null, polls, WaitEnd.Canceled, null);
            }

            var snapshot = await context.CallActivityAsync<TaskSnapshot>(nameof(GetTaskActivity), query with { NotBefore = next }, QueryRetry);
            polls++;
            if (snapshot.IsTerminal)
            {
                return (snapshot, polls, WaitEnd.TaskEnded, null);
            }

            if (final)
            {
                return (snapshot, polls, WaitEnd.TimedOut, null);
            }

            window = snapshot.Window;
            activeJobs = snapshot.ActiveJobs;
            queueWait = snapshot.QueueWait;
            providerStatus = snapshot.Status;
            if (!snapshot.IsRunning)
            {
                running = false;
            }
            else if (!running || snapshot.ScheduledTime is not null)
            {
                running = true;
                startedRunning = snapshot.ScheduledTime?.UtcDateTime ?? context.CurrentUtcDateTime;
            }

            // A cancel already here wins; one raised later goes to the next execution with the unprocessed events.
            if (polls - firstPoll >= PollsPerExecution && !cancelRequested.IsCompleted)
            {
                return (snapshot, polls, WaitEnd.TaskEnded, new JobWaitState
                {
                    StartedAt = default,
                    Submitted = submitted,
                    Polls = polls,
                    Running = running,
                    StartedRunning = startedRunning,
                    ProviderStatus = providerStatus,
                    Window = window,
                    ActiveJobs = activeJobs,
                    QueueWait = queueWait,
                });
            }
        }
    }

    private static async Task<JobResult> FinishAsync(TaskOrchestrationContext context, ImageJob job, JobResult result)
    {
        // 5. Raise the completion events: manifest, webhook, completion queue, external event.
        result = result with { CompletedAt = context.CurrentUtcDateTime };
        context.SetCustomStatus(new JobProgress("notifying", result.TaskId, result.ProviderStatus, result.Polls));
        var evt = new CloudEvent<JobResult>
        {
            Id = $"{job.JobId}/{(result.Status == JobStatus.Succeeded ? "completed" : "failed")}",
            Source = "/imagejobs/jobs",
            Type = result.Status == JobStatus.Succeeded ? CompletionEventTypes.Completed : CompletionEventTypes.Failed,
            Subject = job.JobId,
            Time = new DateTimeOffset(result.CompletedAt, TimeSpan.Zero),
            Data = result,
        };
        var delivery = new CompletionDelivery(job, evt);
        if (result.Manifest is not null)
        {
            try
            {
                await context.CallActivityAsync(nameof(WriteManifestActivity), delivery, StorageRetry);
            }
            catch (TaskFailedException ex)
            {
                // The images are stored; the job still ends and says so on every channel, naming no manifest it lacks.
                Log.DeliveryFailed(context.CreateReplaySafeLogger<ImageJobOrchestrator>(), job.JobId, "manifest", ex.FailureDetails.ToString());
                result = result with { Manifest = null };
                evt = evt with { Data = result };
                delivery = new CompletionDelivery(job, evt);
            }
        }

        // Each channel on its own: one that fails for good (after its retries) does not keep the others from firing, nor
        // undo the job, whose result stays in the orchestration's output and the jobs API.
        var channels = new List<(string Name, Task Sent)>
        {
            ("queue", context.CallActivityAsync(nameof(SendCompletionQueueMessageActivity), delivery, DeliveryRetry)),
        };
        if (job.Notify.WebhookUrl is not null)
        {
            channels.Add(("webhook", context.CallActivityAsync(nameof(SendWebhookActivity), delivery, DeliveryRetry)));
        }

        foreach (var (name, sent) in channels)
        {
            try
            {
                await sent;
            }
            catch (TaskFailedException ex)
            {
                Log.DeliveryFailed(context.CreateReplaySafeLogger<ImageJobOrchestrator>(), job.JobId, name, ex.FailureDetails.ToString());
            }
        }

        if (job.Notify.InstanceId is { } target)
        {
            context.SendEvent(target, job.Notify.EventName ?? ImageJobParser.DefaultEventName, evt);
        }

        context.SetCustomStatus(new JobProgress("done", result.TaskId, result.ProviderStatus, result.Polls));
        return result;
    }

    private static bool IsCausedBy(TaskFailureDetails? failure, Type exceptionType)
    {
        for (; failure is not null; failure = failure.InnerFailure)
        {
            if (string.Equals(failure.ErrorType, exceptionType.FullName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static JobResult Result(ImageJob job, DateTime startedAt, TaskOrchestrationContext context, JobStatus status) => new()
    {
        JobId = job.JobId,
        Model = job.Model,
        Status = status,
        StartedAt = startedAt,
        CompletedAt = context.CurrentUtcDateTime,
    };
}
