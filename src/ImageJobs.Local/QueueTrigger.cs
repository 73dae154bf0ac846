using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ImageJobs.Workflow;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local;

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
