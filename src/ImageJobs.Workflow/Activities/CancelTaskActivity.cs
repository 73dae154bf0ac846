using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Events;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Pipeline;
using ImageJobs.Workflow.Polling;
using ImageJobs.Workflow.Results;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow.Activities;

/// <summary>Cancels a task at the provider; true when it was PENDING and is now cancelled.</summary>
public sealed class CancelTaskActivity(DashScopeClient client) : TaskActivity<TaskQuery, bool>
{
    /// <inheritdoc />
    public override Task<bool> RunAsync(TaskActivityContext context, TaskQuery input) => RunAsync(input, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<bool> RunAsync(TaskQuery input, CancellationToken cancellationToken)
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
