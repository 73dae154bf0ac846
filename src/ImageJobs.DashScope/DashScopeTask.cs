namespace ImageJobs.DashScope;

/// <summary>The state of an asynchronous task (<c>GET /tasks/{task_id}</c>).</summary>
public sealed class DashScopeTask
{
    internal DashScopeTask(
        string taskId,
        DashScopeTaskStatus status,
        string? requestId,
        DateTimeOffset? submitTime,
        DateTimeOffset? scheduledTime,
        DateTimeOffset? endTime,
        IReadOnlyList<DashScopeImageResult> results,
        DashScopeTaskMetrics? metrics,
        DashScopeImageUsage? usage,
        string? code,
        string? message)
    {
        TaskId = taskId;
        Status = status;
        RequestId = requestId;
        SubmitTime = submitTime;
        ScheduledTime = scheduledTime;
        EndTime = endTime;
        Results = results;
        Metrics = metrics;
        Usage = usage;
        Code = code;
        Message = message;
    }

    /// <summary><c>output.task_id</c>.</summary>
    public string TaskId { get; }

    /// <summary><c>output.task_status</c>; unknown values are kept as they are.</summary>
    public DashScopeTaskStatus Status { get; }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }

    /// <summary><c>output.submit_time</c> (sent in UTC+8; carried here with its +08:00 offset).</summary>
    public DateTimeOffset? SubmitTime { get; }

    /// <summary><c>output.scheduled_time</c> (UTC+8).</summary>
    public DateTimeOffset? ScheduledTime { get; }

    /// <summary><c>output.end_time</c> (UTC+8).</summary>
    public DateTimeOffset? EndTime { get; }

    /// <summary><c>output.results</c> in service order: successes and per-image failures side by side.</summary>
    public IReadOnlyList<DashScopeImageResult> Results { get; }

    /// <summary>The URLs of the successful images, in order.</summary>
    public IReadOnlyList<string> ImageUrls => [.. Results.Where(r => r.IsSuccess).Select(r => r.Url!)];

    /// <summary><c>output.task_metrics</c>, when sent (qwen-image omits it).</summary>
    public DashScopeTaskMetrics? Metrics { get; }

    /// <summary><c>usage</c>, when sent.</summary>
    public DashScopeImageUsage? Usage { get; }

    /// <summary><c>output.code</c>: why a FAILED task failed.</summary>
    public string? Code { get; }

    /// <summary><c>output.message</c>: why a FAILED task failed.</summary>
    public string? Message { get; }
}
