namespace ImageJobs.DashScope;

/// <summary><c>task_metrics</c> (async tasks) or <c>task_metric</c> (sync call): image counts.</summary>
public sealed class DashScopeTaskMetrics
{
    internal DashScopeTaskMetrics(int total, int succeeded, int failed)
    {
        Total = total;
        Succeeded = succeeded;
        Failed = failed;
    }

    /// <summary><c>TOTAL</c>.</summary>
    public int Total { get; }

    /// <summary><c>SUCCEEDED</c>.</summary>
    public int Succeeded { get; }

    /// <summary><c>FAILED</c>.</summary>
    public int Failed { get; }
}
