using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core.Exceptions;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using ImageJobs.Workflow.Outbound;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Workflow.Intake;

/// <summary>
/// The one way into the pipeline for every trigger: the job is validated (the parser's rules, then the outbound guard
/// on its URLs) and started under its job id, so the same job twice starts once and pays once. The client is a
/// parameter because in Azure Functions it exists only as the <c>[DurableClient]</c> binding of each invocation.
/// </summary>
public sealed class JobIntake(OutboundUrlGuard guard, ImageJobsOptions options)
{
    /// <summary>Parses and validates a job, then checks its URLs with the outbound guard (webhook and http(s) image inputs).</summary>
    public async Task<(ImageJob? Job, IReadOnlyList<FieldError> Errors)> ValidateAsync(JsonNode? body, string defaultJobId, CancellationToken cancellationToken)
    {
        var errors = ImageJobParser.TryParse(body, defaultJobId, out var job).ToList();
        if (job is null)
        {
            return (null, errors);
        }

        if (options.OutputContainerRefusal(job.Output.Container) is { } refusal)
        {
            errors.Add(new("output.container", $"output.container is refused: {refusal}."));
        }

        if (job.Notify.WebhookUrl is { } webhook)
        {
            if (string.IsNullOrEmpty(options.WebhookSecret))
            {
                errors.Add(new("notify.webhookUrl", "Webhooks are signed; set IMAGEJOBS_WEBHOOK_SECRET on the app to use notify.webhookUrl."));
            }
            else if (await guard.CheckAsync(new Uri(webhook), cancellationToken) is { } reason)
            {
                errors.Add(new("notify.webhookUrl", $"notify.webhookUrl is refused: {reason}."));
            }
        }

        foreach (var (path, node) in ImageJobParser.ImageFields(job.Input))
        {
            if (node.GetValueKind() == JsonValueKind.String && Uri.TryCreate(node.GetValue<string>(), UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                && await guard.CheckAsync(uri, cancellationToken) is { } reason)
            {
                errors.Add(new(path, $"{path} is refused: {reason}."));
            }
        }

        return errors.Count == 0 ? (job, errors) : (null, errors);
    }

    /// <summary>
    /// Starts a validated job under its job id. An instance with that id in any state (pending, running, suspended or
    /// ended) makes the start a no-op: the task hub refuses it with <see cref="OrchestrationAlreadyExistsException"/>,
    /// so a repeated job never pays twice.
    /// </summary>
    /// <returns>The job id, and whether this call started the job (<see langword="false"/>: it existed already).</returns>
    public static async Task<(string JobId, bool Started)> StartAsync(DurableTaskClient client, ImageJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(job);
        var options = new StartOrchestrationOptions(job.JobId).WithDedupeStatuses([.. StartOrchestrationOptionsExtensions.ValidDedupeStatuses]);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(ImageJobOrchestrator), job, options, cancellationToken);
            return (job.JobId, true);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            return (job.JobId, false);
        }
    }

    /// <summary>Validates and starts, or throws <see cref="JobRejectedException"/> with every reason.</summary>
    public async Task<(string JobId, bool Started)> ValidateAndStartAsync(DurableTaskClient client, JsonNode? body, string defaultJobId, CancellationToken cancellationToken)
    {
        var (job, errors) = await ValidateAsync(body, defaultJobId, cancellationToken);
        return job is null ? throw new JobRejectedException(errors) : await StartAsync(client, job, cancellationToken);
    }

    /// <summary>
    /// Reads a message of the <c>image-jobs</c> queue: the job JSON as it is, or base64-encoded (as Functions' queue
    /// output writes it). The message id becomes the job id when the job names none, so a redelivered message starts
    /// nothing new.
    /// </summary>
    public static JsonNode? ParseQueueMessage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        ReadOnlyMemory<byte> json = Encoding.UTF8.GetBytes(trimmed);
        if (!trimmed.StartsWith('{'))
        {
            var buffer = new byte[trimmed.Length];
            if (Convert.TryFromBase64String(trimmed, buffer, out var written))
            {
                json = buffer.AsMemory(0, written);
            }
        }

        return ImageJobParser.TryParseJson(json, "The message (plain or base64)", out var node) is { } error
            ? throw new JobRejectedException([error])
            : node;
    }

    /// <summary>A job id for a queue message without one: <c>msg-{messageId}</c> cut to the allowed characters.</summary>
    public static string QueueJobId(string messageId)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        var safe = new string([.. messageId.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')]);
        return ("msg-" + safe)[..Math.Min(64, 4 + safe.Length)];
    }

    /// <summary>The job id of an upload: <c>upload-{hash of blob name and ETag}</c>, so the same upload seen twice starts once.</summary>
    public static string UploadJobId(string blobName, string etag) =>
        "upload-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{blobName}|{etag}")))[..40];

    /// <summary>
    /// The job for a new blob under <c>uploads/</c>: <c>uploads/{function}/{name}</c> edits with wanx2.1-imageedit's
    /// function, <c>uploads/wan2.5-i2i-preview/{name}</c> with wan2.5. Prompt and parameters come from the blob's
    /// metadata (<c>prompt</c>, <c>parameters</c>: JSON; both may be percent-encoded) or from <see cref="UploadOptions"/>.
    /// The job id is derived from the blob name and ETag, so a redelivered event never pays twice.
    /// </summary>
    public static JsonObject UploadJob(string blobName, string etag, IDictionary<string, string> metadata, UploadOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(defaults);
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        var folder = slash > 0 ? blobName[..slash] : string.Empty;
        var reference = $"{ImageJobParser.BlobScheme}{ImageJobsOptions.UploadsContainer}/{blobName}";
        var meta = new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase);
        var prompt = meta.TryGetValue("prompt", out var p) ? Uri.UnescapeDataString(p) : defaults.DefaultPrompt;
        var parametersText = meta.TryGetValue("parameters", out var json) ? Uri.UnescapeDataString(json) : defaults.DefaultParameters;
        if (ImageJobParser.TryParseJson(parametersText, "The blob's 'parameters' metadata", out var parameters) is { } error)
        {
            throw new JobRejectedException([error.Field == "$" ? error with { Field = "parameters" } : error with { Field = "parameters." + error.Field }]);
        }

        var jobId = UploadJobId(blobName, etag);
        JsonObject input;
        string model;
        if (folder == DashScopeModels.Wan25ImageToImagePreview)
        {
            model = folder;
            input = new JsonObject { ["prompt"] = prompt };
            DashScopeModelCatalog.WriteImages(model, input, [reference]);
        }
        else if (WanxImageEditFunctions.All.Contains(folder))
        {
            model = DashScopeModels.WanxImageEdit;
            input = new JsonObject { ["function"] = folder, ["prompt"] = prompt };
            DashScopeModelCatalog.WriteImages(model, input,
                meta.TryGetValue("mask", out var mask) ? [reference, Uri.UnescapeDataString(mask)] : [reference]);
        }
        else
        {
            throw new JobRejectedException([new FieldError("blobName",
                $"'{blobName}' is not under uploads/{{function}}/ (one of {string.Join(", ", WanxImageEditFunctions.All)}) or uploads/{DashScopeModels.Wan25ImageToImagePreview}/.")]);
        }

        if (prompt is null)
        {
            input.Remove("prompt");
        }

        return new JsonObject { ["jobId"] = jobId, ["model"] = model, ["input"] = input, ["parameters"] = parameters };
    }
}
