namespace ImageJobs.DashScope;

/// <summary>The answer to a submit: the task id to poll.</summary>
public sealed class DashScopeTaskSubmission
{
    internal DashScopeTaskSubmission(string taskId, DashScopeTaskStatus status, string? requestId)
    {
        TaskId = taskId;
        Status = status;
        RequestId = requestId;
    }

    /// <summary><c>output.task_id</c>: poll it with <see cref="DashScopeClient.GetTaskAsync"/> (valid 24 hours).</summary>
    public string TaskId { get; }

    /// <summary><c>output.task_status</c>, normally PENDING.</summary>
    public DashScopeTaskStatus Status { get; }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }
}
