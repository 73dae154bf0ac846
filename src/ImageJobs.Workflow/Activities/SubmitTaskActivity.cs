using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Provider;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow.Activities;

/// <summary>
/// Submits the job's task to DashScope, paying once: the intent is recorded before the call and the task id right
/// after it, so a retried or replayed submit that finds a task id reuses it. Inputs uploaded to DashScope's temporary
/// storage are recorded with the intent (and kept when the provider refuses the submit), so a retry sends the same
/// <c>oss://</c> URLs instead of uploading again. Provider errors come back as an outcome
/// (the orchestration retries throttling and 5xx on durable timers); only storage or network failures throw.
/// </summary>
public sealed class SubmitTaskActivity(
    DashScopeClient client, JobStateStore state, InputResolver inputs, DurationLearning durations, ProviderPacing pacing, ImageJobsOptions options,
    TimeProvider time, ILogger<SubmitTaskActivity> logger)
    : TaskActivity<SubmitRequest, SubmitOutcome>
{
    /// <inheritdoc />
    public override Task<SubmitOutcome> RunAsync(TaskActivityContext context, SubmitRequest request) => RunAsync(request, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<SubmitOutcome> RunAsync(SubmitRequest request, CancellationToken cancellationToken) =>
        await RunCoreAsync(request, cancellationToken) with { RateWindowScale = options.RateWindowScale };

    private async Task<SubmitOutcome> RunCoreAsync(SubmitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var input = request.Job;
        var window = await durations.GetWindowAsync(input.Model, cancellationToken);
        var (record, etag) = await state.GetSubmissionAsync(input.JobId, cancellationToken);
        if (record?.TaskId is { } existing)
        {
            return new SubmitOutcome(existing, Reused: true, null, false, null, window) { SubmittedAt = record.SubmittedAt };
        }

        if (record is { Refused: false })
        {
            Log.UnconfirmedSubmitIntent(logger, input.JobId, record.Attempts);
        }

        // Wait for this model's submit slot, shared by every instance: briefly here, or on a durable timer in the orchestration.
        var slot = await pacing.ReserveSubmitAsync(input.Model, input.JobId, request.ReservedSlot, cancellationToken);
        if (slot - time.GetUtcNow() > ProviderPacing.MaxInlineWait)
        {
            return Paced(slot, window);
        }

        ResolvedInput resolved;
        try
        {
            resolved = await inputs.ResolveAsync(input.Model, input.Input, record?.Uploads, client, cancellationToken);
        }
        catch (InputResolutionException ex)
        {
            return Failed(new JobError("InvalidInput", ex.Message), window);
        }
        catch (OutboundUrlRefusedException ex)
        {
            return Failed(new JobError("UrlRefused", ex.Message), window);
        }
        catch (DashScopeException ex)
        {
            // An upload to the temporary storage failed: nothing was submitted. A new attempt gets a new policy (and
            // upload directory), so retrying a transport failure cannot collide with a file that did land.
            return new SubmitOutcome(null, false,
                new JobError(ex.Code ?? $"HTTP{ex.Status}", "Uploading an input to DashScope's temporary storage failed: " + ex.Message),
                ex.IsRetryable || ex.Status == 0, ex.RetryAfter, window);
        }

        var reused = resolved.Uploads.Count(u => record?.Uploads?.Contains(u) == true);
        if (resolved.Uploads.Count > 0)
        {
            Log.TemporaryInputs(logger, input.JobId, resolved.Uploads.Count - reused, reused);
        }

        // Resolving may have taken long enough for the slot to pass: then it is replaced by the next free one. Files it
        // uploaded are recorded first (as a submit that was never sent), so the paced retry sends them again.
        slot = await pacing.ReserveSubmitAsync(input.Model, input.JobId, slot, cancellationToken);
        if (slot - time.GetUtcNow() > ProviderPacing.MaxInlineWait)
        {
            if (reused < resolved.Uploads.Count)
            {
                var unsent = new SubmissionRecord(input.JobId, null, time.GetUtcNow(), null, record?.Attempts ?? 0, resolved.Uploads, Refused: true);
                await state.PutSubmissionAsync(unsent, record is null ? null : etag, cancellationToken);
            }

            return Paced(slot, window);
        }

        var providerRequest = DashScopeImageRequest.FromJson(input.Model, resolved.Input, input.Parameters);
        await time.DelayUntilAsync(slot, cancellationToken);

        // The intent goes right before the call, so one left without a task id means a call was (about to be) made.
        var intent = new SubmissionRecord(input.JobId, null, time.GetUtcNow(), null, (record?.Attempts ?? 0) + 1, resolved.Uploads);
        var intentTag = await state.PutSubmissionAsync(intent, record is null ? null : etag, cancellationToken);

        // A slow intent write (a loaded storage account) can make the send late enough to crowd the next slots into one
        // of the provider's windows: then it takes the next free slot instead (once: a wait in place is never late by
        // more than the timer's own error, which the lane's margin covers).
        if (time.GetUtcNow() > slot + pacing.LateTolerance)
        {
            slot = await pacing.ReserveSubmitAsync(input.Model, input.JobId, null, cancellationToken);
            if (slot - time.GetUtcNow() > ProviderPacing.MaxInlineWait)
            {
                await state.ReleaseSubmissionAsync(intent, intentTag, cancellationToken);
                return Paced(slot, window);
            }

            await time.DelayUntilAsync(slot, cancellationToken);
        }

        DashScopeTaskSubmission submission;
        try
        {
            submission = await client.SubmitAsync(providerRequest, cancellationToken);
        }
        catch (DashScopeValidationException ex)
        {
            await state.ReleaseSubmissionAsync(intent, intentTag, cancellationToken);
            return Failed(new JobError("InvalidParameter", ex.Message), window);
        }
        catch (DashScopeException ex) when (ex.Code is DashScopeErrorCodes.ClientTimeout or DashScopeErrorCodes.InvalidResponse)
        {
            // The request may have reached DashScope and created a paid task we cannot see: never submit blindly again.
            return Failed(new JobError("SubmitOutcomeUnknown",
                $"The submit's outcome is unknown ({ex.Code}): a task may have been created. Check the provider's task list before submitting the job again under a new jobId."), window);
        }
        catch (DashScopeException ex)
        {
            // The provider answered with an error (or was never reached): no task was created, nothing was paid.
            await state.ReleaseSubmissionAsync(intent, intentTag, cancellationToken);
            return new SubmitOutcome(null, false, new JobError(ex.Code ?? $"HTTP{ex.Status}", ex.Message),
                ex.IsRetryable || ex.Code == DashScopeErrorCodes.ConnectionFailed, ex.RetryAfter, window);
        }

        // Record the task id at once; CancellationToken.None because the task is paid for whatever happens now.
        var submittedAt = time.GetUtcNow();
        await state.PutSubmissionAsync(intent with { TaskId = submission.TaskId, SubmittedAt = submittedAt }, intentTag, CancellationToken.None);
        return new SubmitOutcome(submission.TaskId, false, null, false, null, window) { SubmittedAt = submittedAt };
    }

    private static SubmitOutcome Failed(JobError error, DurationWindow window) => new(null, false, error, false, null, window);

    // Not an error: the job's turn under the model's submit rate is later, and the orchestrator waits for it on a timer.
    private static SubmitOutcome Paced(DateTimeOffset slot, DurationWindow window) =>
        new(null, false, null, false, null, window) { ReservedSlot = slot };
}
