using ImageJobs.DashScope;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using ImageJobs.Workflow.Provider;
using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Activities;

/// <summary>
/// Queries a task's status, not before <see cref="TaskQuery.NotBefore"/> (it sleeps at most
/// <see cref="DurableTimers.Granularity"/> for it); learns the model's running time when the task ends.
/// </summary>
public sealed class GetTaskActivity(DashScopeClient client, DurationLearning durations, ActivePollers pollers, ProviderPacing pacing, TimeProvider time)
    : TaskActivity<TaskQuery, TaskSnapshot>
{
    /// <inheritdoc />
    public override Task<TaskSnapshot> RunAsync(TaskActivityContext context, TaskQuery input) => RunAsync(input, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<TaskSnapshot> RunAsync(TaskQuery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.NotBefore is { } notBefore)
        {
            // What the whole-second durable timer woke early by; never more than it can be (a retry's time has passed).
            var latest = time.GetUtcNow() + DurableTimers.Granularity;
            await time.DelayUntilAsync(notBefore < latest ? notBefore : latest, cancellationToken);
        }

        await pacing.WaitForQuerySlotAsync(cancellationToken);
        var task = await client.GetTaskAsync(input.TaskId, cancellationToken);

        var (active, _, ahead) = pollers.Touch(input.JobId, input.Model, task.SubmitTime);
        var status = task.Status.ToString();
        var succeeded = task.Status == DashScopeTaskStatus.Succeeded;
        if (task.Status.IsTerminal)
        {
            pollers.Remove(input.JobId);
            if (succeeded && task.ScheduledTime is { } started && task.EndTime is { } ended && ended > started)
            {
                await durations.RecordAsync(input.Model, ended - started, cancellationToken);
            }
        }

        var results = task.Results.Select(r => new TaskResultItem(
            r.IsSuccess ? r.Url : null,
            r.IsSuccess ? null : new JobError(r.Code ?? "ImageFailed", r.Message ?? "The provider produced no image."),
            r.OriginalPrompt,
            r.ActualPrompt)).ToList();
        var error = task.Code is not null || (task.Status.IsTerminal && !succeeded)
            ? new JobError(task.Code ?? status, task.Message ?? (task.Status == DashScopeTaskStatus.Unknown
                ? "The provider does not know the task (it expired after 24 hours, or never existed)."
                : task.Status == DashScopeTaskStatus.Canceled
                    ? "The task was cancelled at the provider."
                    : "The provider failed the task."))
            : null;
        var window = await durations.GetWindowAsync(input.Model, cancellationToken);
        var concurrency = DashScopeModels.TryGetProfile(input.Model, out var profile) ? profile.MaxConcurrentTasks : 1;
        // FIFO per model: this task starts once all but concurrency - 1 of the tasks ahead have ended; the running ones
        // are on average half done.
        var queueWait = (window.Min + window.Max) / 2 * (Math.Max(0, ahead - concurrency + 0.5) / concurrency);
        return new TaskSnapshot(status, task.ScheduledTime, task.EndTime, succeeded ? null : error, results, window, active, queueWait);
    }
}
