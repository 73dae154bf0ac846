namespace ImageJobs.DashScope;

/// <summary>One row of <c>GET /tasks</c>.</summary>
public sealed class DashScopeTaskSummary
{
    internal DashScopeTaskSummary(
        string? taskId, DashScopeTaskStatus status, string? modelName, string? region, string? requestId,
        DateTimeOffset? createdTime, DateTimeOffset? startTime, DateTimeOffset? endTime)
    {
        TaskId = taskId;
        Status = status;
        ModelName = modelName;
        Region = region;
        RequestId = requestId;
        CreatedTime = createdTime;
        StartTime = startTime;
        EndTime = endTime;
    }

    /// <summary><c>task_id</c>.</summary>
    public string? TaskId { get; }

    /// <summary><c>status</c>.</summary>
    public DashScopeTaskStatus Status { get; }

    /// <summary><c>model_name</c>.</summary>
    public string? ModelName { get; }

    /// <summary><c>region</c>.</summary>
    public string? Region { get; }

    /// <summary><c>request_id</c> of the submit.</summary>
    public string? RequestId { get; }

    /// <summary><c>gmt_create</c> (epoch milliseconds on the wire; UTC here).</summary>
    public DateTimeOffset? CreatedTime { get; }

    /// <summary><c>start_time</c> (epoch milliseconds on the wire; UTC here).</summary>
    public DateTimeOffset? StartTime { get; }

    /// <summary><c>end_time</c> (epoch milliseconds on the wire; UTC here).</summary>
    public DateTimeOffset? EndTime { get; }
}
