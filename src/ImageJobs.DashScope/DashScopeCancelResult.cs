namespace ImageJobs.DashScope;

/// <summary>The answer to a cancel.</summary>
public sealed class DashScopeCancelResult
{
    internal DashScopeCancelResult(string? requestId) => RequestId = requestId;

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }
}
