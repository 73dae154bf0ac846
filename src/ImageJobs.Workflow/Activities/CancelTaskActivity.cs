using ImageJobs.DashScope;
using Microsoft.DurableTask;

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
