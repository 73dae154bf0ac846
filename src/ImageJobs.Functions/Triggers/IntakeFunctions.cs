using Azure.Storage.Blobs;
using Azure.Storage.Queues.Models;
using ImageJobs.Functions.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Pipeline;
using ImageJobs.Workflow.Triggers;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Functions.Triggers;

/// <summary>
/// The queue and upload triggers: both hand the job to <see cref="JobIntake"/>, which validates it and starts it under its
/// job id (the same message or upload twice starts once).
/// </summary>
/// <param name="services">Builds <see cref="JobIntake"/> on the bound client.</param>
/// <param name="uploads">Defaults for uploads whose metadata has no prompt or parameters.</param>
/// <param name="logger">The logger.</param>
public sealed partial class IntakeFunctions(DurableClientServices services, UploadOptions uploads, ILogger<IntakeFunctions> logger)
{
    /// <summary>The queue function's name.</summary>
    public const string QueueFunctionName = "StartJobFromQueue";

    /// <summary>The upload function's name: infra's Event Grid subscription delivers to <c>Host.Functions.OnUpload</c>.</summary>
    public const string UploadFunctionName = "OnUpload";

    /// <summary>
    /// A job from the <c>image-jobs</c> queue. An invalid message throws, so the runtime retries it and, after
    /// <c>maxDequeueCount</c> (host.json), moves it to <c>image-jobs-poison</c>.
    /// </summary>
    [Function(QueueFunctionName)]
    public async Task StartJobFromQueue(
        [QueueTrigger(ImageJobsOptions.JobsQueue, Connection = StorageClients.ConnectionName)] QueueMessage message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            var body = JobIntake.ParseQueueMessage(message.Body.ToString());
            var id = await services.Intake(client).ValidateAndStartAsync(body, JobIntake.QueueJobId(message.MessageId), cancellationToken);
            LogQueueStarted(logger, message.MessageId, id);
        }
        catch (JobRejectedException ex)
        {
            LogQueueRejected(logger, message.MessageId, message.DequeueCount, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// A new blob under <c>uploads/</c> (delivered by Event Grid: the only blob trigger source Flex Consumption has). A
    /// rejected upload is logged, not retried: the same blob would be rejected again.
    /// </summary>
    [Function(UploadFunctionName)]
    public async Task OnUpload(
        [BlobTrigger(ImageJobsOptions.UploadsContainer + "/{name}", Source = BlobTriggerSource.EventGrid, Connection = StorageClients.ConnectionName)] BlobClient blob,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        try
        {
            var body = JobIntake.UploadJob(blob.Name, properties.ETag.ToString(), properties.Metadata, uploads);
            var id = await services.Intake(client).ValidateAndStartAsync(body, (string)body["jobId"]!, cancellationToken);
            LogUploadStarted(logger, blob.Name, id);
        }
        catch (JobRejectedException ex)
        {
            LogUploadRejected(logger, blob.Name, ex.Message);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Queue message {MessageId} started job {JobId}.")]
    private static partial void LogQueueStarted(ILogger logger, string messageId, string jobId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Queue message {MessageId} was rejected (try {DequeueCount}; it goes to image-jobs-poison after the last): {Reason}")]
    private static partial void LogQueueRejected(ILogger logger, string messageId, long dequeueCount, string reason);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Upload {BlobName} started job {JobId}.")]
    private static partial void LogUploadStarted(ILogger logger, string blobName, string jobId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Upload {BlobName} was not turned into a job: {Reason}")]
    private static partial void LogUploadRejected(ILogger logger, string blobName, string reason);
}
