using Azure.Storage.Queues;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Activities;

/// <summary>
/// Writes the completion CloudEvent to the job's queue (or <see cref="ImageJobsOptions.CompletionQueue"/>), base64-encoded
/// as Functions queue triggers expect, once (<see cref="JobStateStore.DeliverOnceAsync"/>).
/// </summary>
public sealed class SendCompletionQueueMessageActivity(QueueServiceClient queues, JobStateStore state, ImageJobsOptions options) : TaskActivity<CompletionDelivery, bool>
{
    /// <inheritdoc />
    public override Task<bool> RunAsync(TaskActivityContext context, CompletionDelivery input) => RunAsync(input, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<bool> RunAsync(CompletionDelivery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = input.Job.Notify.Queue ?? options.CompletionQueue;
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        return await state.DeliverOnceAsync(input.Job.JobId, "queue", async ct =>
        {
            var queue = queues.GetQueueClient(name);
            await queue.CreateIfNotExistsAsync(cancellationToken: ct);
            await queue.SendMessageAsync(Convert.ToBase64String(input.Event.ToUtf8Json(DurableJson.Options)), ct);
        }, cancellationToken);
    }
}
