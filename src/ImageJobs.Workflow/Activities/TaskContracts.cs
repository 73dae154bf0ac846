using System.Text.Json.Serialization;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Provider;

namespace ImageJobs.Workflow.Activities;

/// <summary>Which task to query.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Model">The model (for learning its durations).</param>
/// <param name="TaskId">The provider's task id.</param>
/// <param name="NotBefore">The time the poll was planned for. A durable timer on the Azure Storage provider may wake up
/// to <see cref="Orchestrations.DurableTimers.Granularity"/> before it (see
/// <see cref="Orchestrations.DurableTimers.WaitUntilNearAsync"/>); <see cref="Activities.GetTaskActivity"/> waits out
/// what is left, at most that long, before it queries. <see langword="null"/>: query at once.</param>
public sealed record TaskQuery(string JobId, string Model, string TaskId, DateTimeOffset? NotBefore = null);

/// <summary>A compact view of a provider task, as the orchestration needs it.</summary>
/// <param name="Status">The provider status (<c>PENDING</c>, <c>RUNNING</c>, <c>SUCCEEDED</c>, <c>FAILED</c>, <c>CANCELED</c>, <c>UNKNOWN</c>, or a future value).</param>
/// <param name="ScheduledTime">When the provider started running it.</param>
/// <param name="EndTime">When it ended.</param>
/// <param name="Error">The provider's code and message on FAILED.</param>
/// <param name="Results">One entry per requested image: a URL or a per-image error.</param>
/// <param name="Window">The expected running time to plan the next poll with.</param>
/// <param name="ActiveJobs">How many jobs are polling now (the query budget is shared).</param>
/// <param name="QueueWait">For a PENDING task, its expected wait for the provider: the jobs of its model submitted
/// before it, beyond the model's concurrency (less half a running task), times the mean running time, divided by the concurrency.</param>
public sealed record TaskSnapshot(
    string Status, DateTimeOffset? ScheduledTime, DateTimeOffset? EndTime, JobError? Error,
    IReadOnlyList<TaskResultItem> Results, DurationWindow Window, int ActiveJobs, TimeSpan QueueWait = default)
{
    /// <summary>True for SUCCEEDED, FAILED, CANCELED and UNKNOWN (<see cref="DashScopeTaskStatus.IsTerminal"/>): polling stops.</summary>
    [JsonIgnore]
    public bool IsTerminal => ProviderStatus.IsTerminal;

    /// <summary>True when the task ended with SUCCEEDED.</summary>
    [JsonIgnore]
    public bool IsSucceeded => ProviderStatus == DashScopeTaskStatus.Succeeded;

    /// <summary>True once the provider started the task (anything past PENDING).</summary>
    [JsonIgnore]
    public bool IsRunning => ProviderStatus != DashScopeTaskStatus.Pending;

    private DashScopeTaskStatus ProviderStatus => new(Status ?? string.Empty);
}

/// <summary>One entry of a task's results.</summary>
/// <param name="Url">The signed result URL on success.</param>
/// <param name="Error">The per-image error on failure.</param>
/// <param name="OrigPrompt">The prompt as submitted, when the provider echoes it.</param>
/// <param name="ActualPrompt">The prompt the provider used after extension.</param>
public sealed record TaskResultItem(string? Url, JobError? Error, string? OrigPrompt, string? ActualPrompt);
