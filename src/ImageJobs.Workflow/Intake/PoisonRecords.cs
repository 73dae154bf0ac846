using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;

namespace ImageJobs.Workflow.Intake;

/// <summary>
/// Writes what a trigger could not turn into a job to <see cref="ImageJobsOptions.PoisonQueue"/>, with the reason, the
/// same way in both hosts: a queue message that is invalid by itself (on its first read: retrying cannot fix it) or
/// after its last try, and an upload that could not be turned into a job. Each record is a JSON object with
/// <c>reason</c>, <c>errors</c> (when the job was refused: a list of <c>field</c> and <c>message</c>) and what it came from: <c>messageId</c>,
/// <c>dequeueCount</c> and <c>message</c> for a queue message, <c>blob</c> for an upload.
/// </summary>
public sealed class PoisonRecords(QueueServiceClient queues)
{
    /// <summary>Records a queue message of <see cref="ImageJobsOptions.JobsQueue"/>.</summary>
    public Task SendMessageAsync(string messageId, long dequeueCount, string message, Exception reason, CancellationToken cancellationToken)
    {
        var record = Record(reason);
        record["messageId"] = messageId;
        record["dequeueCount"] = dequeueCount;
        record["message"] = message;
        return SendAsync(record, cancellationToken);
    }

    /// <summary>Records a blob of <see cref="ImageJobsOptions.UploadsContainer"/>.</summary>
    public Task SendUploadAsync(string blobName, Exception reason, CancellationToken cancellationToken)
    {
        var record = Record(reason);
        record["blob"] = $"{ImageJobsOptions.UploadsContainer}/{blobName}";
        return SendAsync(record, cancellationToken);
    }

    /// <summary>Whether a failure is the input's own, so that retrying it cannot help.</summary>
    public static bool IsInvalidByItself(Exception exception) => exception is JobRejectedException;

    private static JsonObject Record(Exception reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return new JsonObject
        {
            ["reason"] = reason.Message,
            ["errors"] = reason is JobRejectedException rejected ? JsonSerializer.SerializeToNode(rejected.Errors, DurableJson.Options) : null,
        };
    }

    private async Task SendAsync(JsonObject record, CancellationToken cancellationToken)
    {
        var poison = queues.GetQueueClient(ImageJobsOptions.PoisonQueue);
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await poison.SendMessageAsync(record.ToJsonString(), cancellationToken);
    }
}
