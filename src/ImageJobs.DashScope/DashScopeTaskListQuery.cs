namespace ImageJobs.DashScope;

/// <summary>Query of <c>GET /tasks</c> (window at most 24 hours; default the last 24 hours).</summary>
public sealed class DashScopeTaskListQuery
{
    /// <summary><c>task_id</c>.</summary>
    public string? TaskId { get; set; }

    /// <summary><c>start_time</c>, sent as <c>YYYYMMDDhhmmss</c> in UTC+8.</summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary><c>end_time</c>, sent as <c>YYYYMMDDhhmmss</c> in UTC+8.</summary>
    public DateTimeOffset? EndTime { get; set; }

    /// <summary><c>model_name</c>.</summary>
    public string? ModelName { get; set; }

    /// <summary><c>status</c>.</summary>
    public DashScopeTaskStatus? Status { get; set; }

    /// <summary><c>page_no</c> (from 1).</summary>
    public int? PageNo { get; set; }

    /// <summary><c>page_size</c>.</summary>
    public int? PageSize { get; set; }
}
