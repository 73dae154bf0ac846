using Azure.Storage.Blobs;
using Azure.Storage.Queues.Models;
using ImageJobs.Workflow;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Functions.Triggers;

/// <summary>
/// The queue and upload triggers: both hand the job to <see cref="JobIntake"/>, which validates it and starts it under its
/// job id (the same message or upload twice starts once).
/// </summary>
/// <param name="intake">Validates and starts jobs on the bound client.</param>
/// <param name="uploads">Defaults for uploads whose metadata has no prompt or parameters.</param>
/// <param name="poison">Records refused queue messages and uploads in <c>image-jobs-poison</c>, as the local host does.</param>
/// <param name="logger">The logger.</param>
public sealed class IntakeFunctions(JobIntake intake, UploadOptions uploads, PoisonRecords poison, ILogger<IntakeFunctions> logger)
{
    /// <summary>The queue function's name.</summary>
    public const string QueueFunctionName = "StartJobFromQueue";

    /// <summary>The upload function's name: infra's Event Grid subscription delivers to <c>Host.Functions.OnUpload</c>.</summary>
    public const string UploadFunctionName = "OnUpload";

    /// <summary>
    /// A job from the <c>image-jobs</c> queue. A message that is invalid by itself (the job is refused) is written to
    /// <c>image-jobs-poison</c> with the reason at once and completed: retrying it cannot help. Any other failure
    /// throws, so the runtime retries it and, after <c>maxDequeueCount</c> (host.json), moves it to <c>image-jobs-poison</c>.
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
            var (id, _) = await intake.ValidateAndStartAsync(client, body, JobIntake.QueueJobId(message.MessageId), cancellationToken);
            HostLog.QueueMessageStartedJob(logger, message.MessageId, id);
        }
        catch (JobRejectedException ex)
        {
            await poison.SendMessageAsync(message.MessageId, message.DequeueCount, message.Body.ToString(), ex, cancellationToken);
            Log.QueueMessageRejected(logger, message.MessageId, message.DequeueCount, ex.Message);
        }
    }

    /// <summary>
    /// A new blob under <c>uploads/</c> (delivered by Event Grid: the only blob trigger source Flex Consumption has). A
    /// rejected upload is recorded in <c>image-jobs-poison</c> with the reason and logged, not retried: the same blob
    /// would be rejected again.
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
            var (id, _) = await intake.ValidateAndStartAsync(client, body, (string)body["jobId"]!, cancellationToken);
            HostLog.UploadStartedJob(logger, blob.Name, id);
        }
        catch (JobRejectedException ex)
        {
            await poison.SendUploadAsync(blob.Name, ex, cancellationToken);
            HostLog.UploadRejected(logger, blob.Name, ex.Message);
        }
    }
}
