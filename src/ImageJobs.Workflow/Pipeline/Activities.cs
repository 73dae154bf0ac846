using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Events;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Polling;
using ImageJobs.Workflow.Results;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow.Pipeline;

/// <summary>
/// Submits the job's task to DashScope, paying once: the intent is recorded before the call and the task id right
/// after it, so a retried or replayed submit that finds a task id reuses it. Inputs uploaded to DashScope's temporary
/// storage are recorded with the intent (and kept when the provider refuses the submit), so a retry sends the same
/// <c>oss://</c> URLs instead of uploading again. Provider errors come back as an outcome
/// (the orchestration retries throttling and 5xx on durable timers); only storage or network failures throw.
/// </summary>
public sealed partial class SubmitTaskActivity(
    DashScopeClient client, JobStateStore state, InputResolver inputs, DurationLearning durations, ProviderPacing pacing, ImageJobsOptions options,
    TimeProvider time, ILogger<SubmitTaskActivity> logger)
    : IActivity<SubmitRequest, SubmitOutcome>
{
    /// <summary>The activity name.</summary>
    public const string Name = "SubmitTask";

    /// <summary>The <see cref="JobError.Code"/> of an outcome that only says "come back at <see cref="SubmitOutcome.ReservedSlot"/>".</summary>
    public const string PacedCode = "Paced";

    /// <inheritdoc />
    public async Task<SubmitOutcome> RunAsync(SubmitRequest request, CancellationToken cancellationToken) =>
        await RunCoreAsync(request, cancellationToken) with { RateWindowScale = options.RateWindowScale };

    private async Task<SubmitOutcome> RunCoreAsync(SubmitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var input = request.Job;
        var window = await durations.GetWindowAsync(input.Model, cancellationToken);
        var (record, etag) = await state.GetSubmissionAsync(input.JobId, cancellationToken);
        if (record?.TaskId is { } existing)
        {
            return new SubmitOutcome(existing, Reused: true, null, false, null, window);
        }

        if (record is { Refused: false })
        {
            LogUnconfirmedIntent(logger, input.JobId, record.Attempts);
        }

        // Wait for this model's submit slot: briefly here, or on a durable timer in the orchestration.
        var slot = pacing.ReserveSubmit(input.Model, request.ReservedSlot);
        var wait = slot - time.GetUtcNow();
        if (wait > ProviderPacing.MaxInlineWait)
        {
            return new SubmitOutcome(null, false, new JobError(PacedCode, "Waiting for a submit slot under the model's rate limit."), true, wait, window) { ReservedSlot = slot };
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
            LogTemporaryInputs(logger, input.JobId, resolved.Uploads.Count - reused, reused);
        }

        wait = slot - time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken);
        }

        var providerRequest = DashScopeImageRequest.FromJson(input.Model, resolved.Input, input.Parameters);
        var intent = new SubmissionRecord(input.JobId, null, time.GetUtcNow(), null, (record?.Attempts ?? 0) + 1, resolved.Uploads);
        var intentTag = await state.PutSubmissionAsync(intent, record is null ? null : etag, cancellationToken);
        DashScopeTaskSubmission submission;
        try
        {
            using (await pacing.SubmitGateAsync(input.Model, cancellationToken))
            {
                submission = await client.SubmitAsync(providerRequest, cancellationToken);
            }
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
        await state.PutSubmissionAsync(intent with { TaskId = submission.TaskId, SubmittedAt = time.GetUtcNow() }, intentTag, CancellationToken.None);
        return new SubmitOutcome(submission.TaskId, false, null, false, null, window);
    }

    private static SubmitOutcome Failed(JobError error, DurationWindow window) => new(null, false, error, false, null, window);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning,
        Message = "Job {JobId} has a submit intent without a task id (attempt {Attempts}): an earlier submit died mid-call and may have been paid; submitting again.")]
    private static partial void LogUnconfirmedIntent(ILogger logger, string jobId, int attempts);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information,
        Message = "Job {JobId} sends {Uploaded} input(s) newly uploaded to DashScope's temporary storage and {Reused} uploaded by an earlier attempt.")]
    private static partial void LogTemporaryInputs(ILogger logger, string jobId, int uploaded, int reused);
}

/// <summary>Queries a task's status; learns the model's running time when it ends.</summary>
public sealed class GetTaskActivity(DashScopeClient client, DurationLearning durations, ActivePollers pollers, ProviderPacing pacing) : IActivity<TaskQuery, TaskSnapshot>
{
    /// <summary>The activity name.</summary>
    public const string Name = "GetTask";

    /// <inheritdoc />
    public async Task<TaskSnapshot> RunAsync(TaskQuery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        DashScopeTask task;
        using (await pacing.QueryAsync(cancellationToken))
        {
            task = await client.GetTaskAsync(input.TaskId, cancellationToken);
        }

        var (active, _, ahead) = pollers.Touch(input.JobId, input.Model, task.SubmitTime);
        var status = task.Status.ToString();
        if (status is "SUCCEEDED" or "FAILED" or "CANCELED" or "UNKNOWN")
        {
            pollers.Remove(input.JobId);
            if (status == "SUCCEEDED" && task.ScheduledTime is { } started && task.EndTime is { } ended && ended > started)
            {
                await durations.RecordAsync(input.Model, ended - started, cancellationToken);
            }
        }

        var results = task.Results.Select(r => new TaskResultItem(
            r.IsSuccess ? r.Url : null,
            r.IsSuccess ? null : new JobError(r.Code ?? "ImageFailed", r.Message ?? "The provider produced no image."),
            r.OriginalPrompt,
            r.ActualPrompt)).ToList();
        var error = task.Code is not null || status is "FAILED" or "CANCELED" or "UNKNOWN"
            ? new JobError(task.Code ?? status, task.Message ?? status switch
            {
                "UNKNOWN" => "The provider does not know the task (it expired after 24 hours, or never existed).",
                "CANCELED" => "The task was cancelled at the provider.",
                _ => "The provider failed the task.",
            })
            : null;
        var window = await durations.GetWindowAsync(input.Model, cancellationToken);
        var concurrency = DashScopeModels.TryGetProfile(input.Model, out var profile) ? profile.MaxConcurrentTasks : 1;
        // FIFO per model: this task starts once all but concurrency - 1 of the tasks ahead have ended; the running ones
        // are on average half done.
        var queueWait = (window.Min + window.Max) / 2 * (Math.Max(0, ahead - concurrency + 0.5) / concurrency);
        return new TaskSnapshot(status, task.ScheduledTime, task.EndTime, status == "SUCCEEDED" ? null : error, results, window, active, queueWait);
    }
}

/// <summary>Cancels a task at the provider; true when it was PENDING and is now cancelled.</summary>
public sealed class CancelTaskActivity(DashScopeClient client) : IActivity<TaskQuery, bool>
{
    /// <summary>The activity name.</summary>
    public const string Name = "CancelTask";

    /// <inheritdoc />
    public async Task<bool> RunAsync(TaskQuery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            await client.CancelTaskAsync(input.TaskId, cancellationToken);
            return true;
        }
        catch (DashScopeException ex) when (ex.Code == "UnsupportedOperation")
        {
            return false;
        }
    }
}

/// <summary>Copies one result image into blob storage (idempotent; see <see cref="ResultImageStore"/>).</summary>
public sealed class DownloadImageActivity(ResultImageStore store, ImageJobsOptions options) : IActivity<DownloadRequest, JobImage>
{
    /// <summary>The activity name.</summary>
    public const string Name = "DownloadImage";

    /// <inheritdoc />
    public async Task<JobImage> RunAsync(DownloadRequest input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var url = input.Result.Url!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !IsResultSource(uri))
        {
            return JobImage.Failed(input.Index, new JobError("UrlRefused",
                $"Result host '{uri?.Host}' is neither a DashScope result host nor listed in ImageJobs:ResultHosts."));
        }

        var metadata = new Dictionary<string, string>
        {
            [BlobMetadata.JobId] = input.JobId,
            [BlobMetadata.Model] = input.Model,
            [BlobMetadata.TaskId] = input.TaskId,
            [BlobMetadata.Index] = input.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (input.Seed is { } seed)
        {
            metadata[BlobMetadata.Seed] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (input.Result.OrigPrompt is { } orig)
        {
            metadata[BlobMetadata.OrigPrompt] = BlobMetadata.EncodeText(orig);
        }

        if (input.Result.ActualPrompt is { } actual)
        {
            metadata[BlobMetadata.ActualPrompt] = BlobMetadata.EncodeText(actual);
        }

        try
        {
            var outcome = await store.CopyAsync(new ResultImageCopy(url, input.Output.Container, input.Output.ImageBlobName(input.JobId, input.Index), metadata, options.MaxResultImageBytes), cancellationToken);
            return outcome.Image is { } image
                ? JobImage.Stored(input.Index, input.Output.Container, image)
                : JobImage.Failed(input.Index, new JobError(outcome.ErrorCode!, outcome.ErrorMessage!));
        }
        catch (OutboundUrlRefusedException ex)
        {
            return JobImage.Failed(input.Index, new JobError("UrlRefused", ex.Message));
        }
    }

    private bool IsResultSource(Uri uri)
    {
        if (DashScopeResultHosts.IsResultUrl(uri))
        {
            return true;
        }

        var authority = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        return options.ResultHosts.Any(h => string.Equals(h, uri.Host, StringComparison.OrdinalIgnoreCase) || string.Equals(h, authority, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>Writes <c>manifest.json</c> next to a job's images: the job (inline image data elided) and its result.</summary>
public sealed class WriteManifestActivity(BlobServiceClient blobs) : IActivity<CompletionDelivery, bool>
{
    /// <summary>The activity name.</summary>
    public const string Name = "WriteManifest";

    /// <inheritdoc />
    public async Task<bool> RunAsync(CompletionDelivery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var job = input.Job;
        var elided = job.Input.DeepClone().AsObject();
        foreach (var (_, node) in ImageJobParser.ImageFields(elided).ToList())
        {
            if (node.GetValueKind() == JsonValueKind.String && node.GetValue<string>() is { } value && value.StartsWith("data:", StringComparison.Ordinal))
            {
                node.ReplaceWith(JsonValue.Create($"{value[..Math.Min(value.Length, value.IndexOf(',', StringComparison.Ordinal) + 1)]}… ({value.Length} characters)"));
            }
        }

        var manifest = new
        {
            jobId = job.JobId,
            model = job.Model,
            input = elided,
            parameters = job.Parameters,
            output = job.Output,
            result = input.Event.Data,
        };
        var container = blobs.GetBlobContainerClient(job.Output.Container);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await container.GetBlobClient(job.Output.ManifestBlobName(job.JobId)).UploadAsync(
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJson)),
            new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Metadata = new Dictionary<string, string> { [BlobMetadata.JobId] = job.JobId },
            },
            cancellationToken);
        return true;
    }

    private static readonly JsonSerializerOptions ManifestJson = new(DurableJson.Options) { WriteIndented = true };
}

/// <summary>
/// Posts the completion CloudEvent to the job's webhook, signed with Standard Webhooks headers, through the outbound
/// guard. The <c>webhook-id</c> is the event id, the same on every retry; a delivered marker stops repeats.
/// </summary>
public sealed class SendWebhookActivity(HttpClient http, JobStateStore state, ImageJobsOptions options, TimeProvider time) : IActivity<CompletionDelivery, bool>
{
    /// <summary>The activity name.</summary>
    public const string Name = "SendWebhook";

    /// <summary>The name of the <see cref="HttpClient"/> this activity uses (guarded by <see cref="OutboundUrlGuard"/>).</summary>
    public const string HttpClientName = "ImageJobs.Outbound";

    /// <inheritdoc />
    public async Task<bool> RunAsync(CompletionDelivery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (await state.WasDeliveredAsync(input.Job.JobId, "webhook", cancellationToken))
        {
            return false;
        }

        var secret = options.WebhookSecret;
        if (string.IsNullOrEmpty(secret))
        {
            throw new InvalidOperationException("IMAGEJOBS_WEBHOOK_SECRET is not set; webhooks cannot be signed.");
        }

        var body = input.Event.ToUtf8Json(DurableJson.Options);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(input.Job.Notify.WebhookUrl!))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.IdHeader, input.Event.Id);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, input.Event.Id, timestamp, body));
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The webhook answered {(int)response.StatusCode}.", null, response.StatusCode);
        }

        await state.MarkDeliveredAsync(input.Job.JobId, "webhook", cancellationToken);
        return true;
    }
}

/// <summary>
/// Writes the completion CloudEvent to the job's queue (or <see cref="ImageJobsOptions.CompletionQueue"/>), base64-encoded
/// as Functions queue triggers expect. A delivered marker stops repeats.
/// </summary>
public sealed class SendCompletionQueueMessageActivity(QueueServiceClient queues, JobStateStore state, ImageJobsOptions options) : IActivity<CompletionDelivery, bool>
{
    /// <summary>The activity name.</summary>
    public const string Name = "SendCompletionQueueMessage";

    /// <inheritdoc />
    public async Task<bool> RunAsync(CompletionDelivery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = input.Job.Notify.Queue ?? options.CompletionQueue;
        if (string.IsNullOrEmpty(name) || await state.WasDeliveredAsync(input.Job.JobId, "queue", cancellationToken))
        {
            return false;
        }

        var queue = queues.GetQueueClient(name);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await queue.SendMessageAsync(Convert.ToBase64String(input.Event.ToUtf8Json(DurableJson.Options)), cancellationToken);
        await state.MarkDeliveredAsync(input.Job.JobId, "queue", cancellationToken);
        return true;
    }
}
