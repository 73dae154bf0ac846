namespace ImageJobs.DashScope;

/// <summary>A page of <c>GET /tasks</c>.</summary>
public sealed class DashScopeTaskList
{
    internal DashScopeTaskList(int total, int? totalPage, int? pageNo, int? pageSize, string? requestId, IReadOnlyList<DashScopeTaskSummary> tasks)
    {
        Total = total;
        TotalPage = totalPage;
        PageNo = pageNo;
        PageSize = pageSize;
        RequestId = requestId;
        Tasks = tasks;
    }

    /// <summary><c>total</c>.</summary>
    public int Total { get; }

    /// <summary><c>total_page</c>.</summary>
    public int? TotalPage { get; }

    /// <summary><c>page_no</c>.</summary>
    public int? PageNo { get; }

    /// <summary><c>page_size</c>.</summary>
    public int? PageSize { get; }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }

    /// <summary><c>data</c>.</summary>
    public IReadOnlyList<DashScopeTaskSummary> Tasks { get; }
}
