using System.Globalization;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ImageJobs.Workflow;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using Microsoft.DurableTask.Client;
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
    /// <summary>
    /// How long a received message stays invisible when host.json's <c>visibilityTimeout</c> is zero (Functions' default)
    /// or absent: a message is never received with no visibility at all, which would hand it to the next poll at once.
    /// </summary>
    public static readonly TimeSpan DefaultReceiveVisibility = TimeSpan.FromMinutes(5);

    /// <summary>How long a received message stays invisible while it is handled: host.json's <c>visibilityTimeout</c> when it gives one.</summary>
    public TimeSpan ReceiveVisibility => VisibilityTimeout > TimeSpan.Zero ? VisibilityTimeout : DefaultReceiveVisibility;

    /// <summary>Reads the settings; Functions' defaults where absent.</summary>
    public static QueueTriggerSettings Read(HostJson hostJson, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(hostJson);
        ArgumentNullException.ThrowIfNull(configuration);
        string? Value(string key) => hostJson.Get("extensions:queues:" + key, configuration);
        return new QueueTriggerSettings(
            Span(Value("maxPollingInterval"), TimeSpan.FromMinutes(1)),
            Span(Value("visibilityTimeout"), TimeSpan.Zero),
            Int(Value("batchSize"), 16),
            Int(Value("maxDequeueCount"), 5));
    }

    private static TimeSpan Span(string? value, TimeSpan fallback) =>
        TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static int Int(string? value, int fallback) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}

/// <summary>Registers the local queue and upload triggers.</summary>
public static class LocalTriggerRegistration
{
    /// <summary>Adds the <c>image-jobs</c> queue trigger, the <c>uploads</c> scanner and the hourly history purge.</summary>
    public static IServiceCollection AddLocalTriggers(this IServiceCollection services, IConfiguration configuration, HostJson hostJson)
    {
        services.AddSingleton(QueueTriggerSettings.Read(hostJson, configuration));
        services.AddHostedService<QueueTrigger>();
        services.AddHostedService<UploadScanner>();
        services.AddHostedService<JobHistoryPurger>();
        return services;
    }
}

/// <summary>
/// The <c>image-jobs</c> queue trigger, as the Functions queue extension behaves: batches, exponential back-off up to
/// <c>maxPollingInterval</c> when idle, a failed message becomes visible again after <c>visibilityTimeout</c>, and after
/// <c>maxDequeueCount</c> tries it moves to <c>image-jobs-poison</c> with the reason attached. A message that is invalid
/// by itself (the job is refused) moves there on its first read: no retry can make it valid.
/// </summary>
public sealed class QueueTrigger(QueueServiceClient queues, DurableTaskClient client, JobIntake intake, PoisonRecords poison, QueueTriggerSettings settings, ILogger<QueueTrigger> logger)
    : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = queues.GetQueueClient(ImageJobsOptions.JobsQueue);
        var idle = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                var messages = (await queue.ReceiveMessagesAsync(settings.BatchSize, settings.ReceiveVisibility, stoppingToken)).Value;
                if (messages.Length == 0)
                {
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, settings.MaxPollingInterval.Ticks));
                    continue;
                }

                idle = TimeSpan.FromMilliseconds(100);
                await Task.WhenAll(messages.Select(m => HandleAsync(queue, m, stoppingToken)));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException ex)
            {
                Log.QueueUnreachable(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task HandleAsync(QueueClient queue, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var body = JobIntake.ParseQueueMessage(message.Body.ToString());
            var (id, _) = await intake.ValidateAndStartAsync(client, body, JobIntake.QueueJobId(message.MessageId), cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            HostLog.QueueMessageStartedJob(logger, message.MessageId, id);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (PoisonRecords.IsInvalidByItself(ex) || message.DequeueCount >= settings.MaxDequeueCount)
            {
                await poison.SendMessageAsync(message.MessageId, message.DequeueCount, message.Body.ToString(), ex, cancellationToken);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                Log.QueueMessagePoisoned(logger, message.MessageId, message.DequeueCount, ex.Message);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: cancellationToken);
                Log.QueueMessageRetried(logger, message.MessageId, message.DequeueCount, ex.Message);
            }
        }
    }
}

/// <summary>
/// The <c>uploads</c> blob trigger of the local host: it scans the container and starts one image-edit job per new blob
/// (in Azure, Event Grid delivers the same events to the Functions app). A receipt <c>{state container}/uploads/{jobId}</c>
/// remembers each blob handled, started or not; the job id comes from name + ETag, so a blob seen twice still pays
/// once. A blob that cannot become a job is recorded against that blob (its receipt, one log line and a record in
/// <c>image-jobs-poison</c>, all with the reason) and the scan goes on with the next one; a storage failure on one
/// blob skips it until the next scan.
/// <para>Several processes may scan one container (<c>serve --instances N</c>, or several hosts on one account): the
/// receipt is created only if absent, so only the scan that creates it logs and records a refused upload; two scans that
/// start the same job at the same moment both reach the task hub, whose Azure Storage provider keeps one start (the
/// Instances row is inserted once, and the other start message, whose execution id does not match it, is discarded
/// unrun). Both scans may then log that they started the job; it runs and is paid for once.</para>
/// </summary>
public sealed class UploadScanner(
    BlobServiceClient blobs, DurableTaskClient client, JobIntake intake, PoisonRecords poison, UploadOptions uploads, ImageJobsOptions options, ILogger<UploadScanner> logger)
    : BackgroundService
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
                // Storage down: log it and scan again, rather than stop handling uploads.
                Log.UploadScanFailed(logger, ex);
                await Task.Delay(Interval, stoppingToken);
            }
        }
    }

    private async Task HandleAsync(BlobContainerClient receipts, Azure.Storage.Blobs.Models.BlobItem item, CancellationToken cancellationToken)
    {
        var jobId = JobIntake.UploadJobId(item.Name, item.Properties.ETag?.ToString() ?? string.Empty);
        var receipt = receipts.GetBlobClient($"uploads/{jobId}");
        try
        {
            if (await receipt.ExistsAsync(cancellationToken))
            {
                return;
            }

            var body = JobIntake.UploadJob(item.Name, item.Properties.ETag?.ToString() ?? string.Empty, item.Metadata, uploads);
            var (id, started) = await intake.ValidateAndStartAsync(client, body, jobId, cancellationToken);
            await WriteReceiptAsync(receipt, item.Name, id, null, cancellationToken);
            if (started)
            {
                HostLog.UploadStartedJob(logger, item.Name, id);
            }
            else
            {
                Log.UploadAlreadyStarted(logger, item.Name, id);
            }
        }
        catch (Exception ex) when ((ex is RequestFailedException or HttpRequestException) && !cancellationToken.IsCancellationRequested)
        {
            Log.UploadStorageFailed(logger, item.Name, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The blob itself cannot become a job (refused, or its metadata breaks the intake): record it once.
            if (await WriteReceiptAsync(receipt, item.Name, null, ex.Message, cancellationToken))
            {
                await poison.SendUploadAsync(item.Name, ex, cancellationToken);
                HostLog.UploadRejected(logger, item.Name, ex.Message);
            }
        }
    }

    // True when this scan wrote the receipt (false when another scan got there first).
    private static async Task<bool> WriteReceiptAsync(BlobClient receipt, string blobName, string? jobId, string? error, CancellationToken cancellationToken)
    {
        var content = new JsonObject { ["blob"] = blobName, ["jobId"] = jobId, ["error"] = error };
        try
        {
            await receipt.UploadAsync(BinaryData.FromString(content.ToJsonString()), overwrite: false, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }
}
