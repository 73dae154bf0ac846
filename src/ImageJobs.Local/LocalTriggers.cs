using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ImageJobs.Workflow.Pipeline;
using ImageJobs.Workflow.Triggers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local;

/// <summary>
/// The queue settings of <c>host.json</c> (<c>extensions.queues</c>), overridable as Functions allows with
/// <c>AzureFunctionsJobHost__extensions__queues__*</c> settings.
/// </summary>
public sealed record QueueTriggerSettings(TimeSpan MaxPollingInterval, TimeSpan VisibilityTimeout, int BatchSize, int MaxDequeueCount)
{
    /// <summary>Reads the settings; Functions' defaults where absent.</summary>
    public static QueueTriggerSettings Read(string hostJsonPath, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(hostJsonPath))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(hostJsonPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.TryGetProperty("extensions", out var extensions) && extensions.TryGetProperty("queues", out var queues))
            {
                foreach (var property in queues.EnumerateObject())
                {
                    values[property.Name] = property.Value.ToString();
                }
            }
        }

        foreach (var child in configuration.GetSection("AzureFunctionsJobHost:extensions:queues").GetChildren())
        {
            values[child.Key] = child.Value;
        }

        return new QueueTriggerSettings(
            Span(values, "maxPollingInterval", TimeSpan.FromMinutes(1)),
            Span(values, "visibilityTimeout", TimeSpan.Zero),
            Int(values, "batchSize", 16),
            Int(values, "maxDequeueCount", 5));
    }

    private static TimeSpan Span(Dictionary<string, string?> values, string key, TimeSpan fallback) =>
        values.TryGetValue(key, out var s) && TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static int Int(Dictionary<string, string?> values, string key, int fallback) =>
        values.TryGetValue(key, out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}

/// <summary>Registers the local queue and upload triggers.</summary>
public static class LocalTriggerRegistration
{
    /// <summary>Adds the <c>image-jobs</c> queue trigger and the <c>uploads</c> scanner.</summary>
    public static IServiceCollection AddLocalTriggers(this IServiceCollection services, IConfiguration configuration, string hostJsonPath)
    {
        services.AddSingleton(QueueTriggerSettings.Read(hostJsonPath, configuration));
        services.AddHostedService<QueueTrigger>();
        services.AddHostedService<UploadScanner>();
        return services;
    }
}

/// <summary>
/// The <c>image-jobs</c> queue trigger, as the Functions queue extension behaves: batches, exponential back-off up to
/// <c>maxPollingInterval</c> when idle, a failed message becomes visible again after <c>visibilityTimeout</c>, and after
/// <c>maxDequeueCount</c> tries it moves to <c>image-jobs-poison</c>, here with the reason attached.
/// </summary>
public sealed partial class QueueTrigger(QueueServiceClient queues, JobIntake intake, QueueTriggerSettings settings, ILogger<QueueTrigger> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = queues.GetQueueClient(ImageJobsOptions.JobsQueue);
        var poison = queues.GetQueueClient(ImageJobsOptions.PoisonQueue);
        var idle = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                var messages = (await queue.ReceiveMessagesAsync(settings.BatchSize, TimeSpan.FromMinutes(5), stoppingToken)).Value;
                if (messages.Length == 0)
                {
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, settings.MaxPollingInterval.Ticks));
                    continue;
                }

                idle = TimeSpan.FromMilliseconds(100);
                await Task.WhenAll(messages.Select(m => HandleAsync(queue, poison, m, stoppingToken)));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException ex)
            {
                LogQueueError(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task HandleAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var body = JobIntake.ParseQueueMessage(message.Body.ToString());
            var id = await intake.ValidateAndStartAsync(body, JobIntake.QueueJobId(message.MessageId), cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            LogStarted(logger, message.MessageId, id);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                var envelope = new JsonObject
                {
                    ["reason"] = ex.Message,
                    ["errors"] = ex is JobRejectedException rejected ? JsonSerializer.SerializeToNode(rejected.Errors, ImageJobs.Workflow.Durable.DurableJson.Options) : null,
                    ["messageId"] = message.MessageId,
                    ["dequeueCount"] = message.DequeueCount,
                    ["message"] = message.Body.ToString(),
                };
                await poison.SendMessageAsync(envelope.ToJsonString(), cancellationToken);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                LogPoisoned(logger, message.MessageId, message.DequeueCount, ex.Message);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: cancellationToken);
                LogRetry(logger, message.MessageId, message.DequeueCount, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Queue message {MessageId} started job {JobId}.")]
    private static partial void LogStarted(ILogger logger, string messageId, string jobId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Queue message {MessageId} failed (try {DequeueCount}): {Reason}")]
    private static partial void LogRetry(ILogger logger, string messageId, long dequeueCount, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Queue message {MessageId} moved to image-jobs-poison after {DequeueCount} tries: {Reason}")]
    private static partial void LogPoisoned(ILogger logger, string messageId, long dequeueCount, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "The image-jobs queue trigger could not reach storage.")]
    private static partial void LogQueueError(ILogger logger, Exception exception);
}

/// <summary>
/// The <c>uploads</c> blob trigger of the local host: it scans the container and starts one image-edit job per new blob
/// (in Azure, Event Grid delivers the same events to the Functions app). Receipts under
/// <c>{state container}/uploads/{jobId}</c> remember what was handled; the job id comes from name + ETag, so a blob
/// seen twice still pays once.
/// </summary>
public sealed partial class UploadScanner(BlobServiceClient blobs, JobIntake intake, UploadOptions uploads, ImageJobsOptions options, ILogger<UploadScanner> logger) : BackgroundService
{
    /// <summary>How often the container is scanned.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var container = blobs.GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
        var receipts = blobs.GetBlobContainerClient(options.StateContainer);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await container.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                await receipts.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                await foreach (var item in container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Traits = Azure.Storage.Blobs.Models.BlobTraits.Metadata }, stoppingToken))
                {
                    await HandleAsync(receipts, item, stoppingToken);
                }

                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage down or one bad blob: log it and scan again, rather than stop handling uploads.
                LogScanError(logger, ex);
                await Task.Delay(Interval, stoppingToken);
            }
        }
    }

    private async Task HandleAsync(BlobContainerClient receipts, Azure.Storage.Blobs.Models.BlobItem item, CancellationToken cancellationToken)
    {
        var etag = item.Properties.ETag?.ToString() ?? string.Empty;
        JsonObject body;
        string receiptName;
        try
        {
            body = JobIntake.UploadJob(item.Name, etag, item.Metadata, uploads);
            receiptName = $"uploads/{body["jobId"]}";
        }
        catch (JobRejectedException ex)
        {
            receiptName = $"uploads/rejected/{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(item.Name + "|" + etag)))[..40]}";
            await WriteReceiptAsync(receipts, receiptName, item.Name, null, ex.Message, cancellationToken);
            return;
        }

        if (await receipts.GetBlobClient(receiptName).ExistsAsync(cancellationToken))
        {
            return;
        }

        try
        {
            var id = await intake.ValidateAndStartAsync(body, (string)body["jobId"]!, cancellationToken);
            await WriteReceiptAsync(receipts, receiptName, item.Name, id, null, cancellationToken);
            LogStarted(logger, item.Name, id);
        }
        catch (JobRejectedException ex)
        {
            await WriteReceiptAsync(receipts, receiptName, item.Name, null, ex.Message, cancellationToken);
        }
    }

    private async Task WriteReceiptAsync(BlobContainerClient receipts, string name, string blobName, string? jobId, string? error, CancellationToken cancellationToken)
    {
        if (error is not null)
        {
            LogRejected(logger, blobName, error);
        }

        var receipt = new JsonObject { ["blob"] = blobName, ["jobId"] = jobId, ["error"] = error };
        try
        {
            await receipts.GetBlobClient(name).UploadAsync(BinaryData.FromString(receipt.ToJsonString()), overwrite: false, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Another scan got there first.
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Upload {BlobName} started job {JobId}.")]
    private static partial void LogStarted(ILogger logger, string blobName, string jobId);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Upload {BlobName} was not turned into a job: {Reason}")]
    private static partial void LogRejected(ILogger logger, string blobName, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "The uploads scan failed; scanning again.")]
    private static partial void LogScanError(ILogger logger, Exception exception);
}
