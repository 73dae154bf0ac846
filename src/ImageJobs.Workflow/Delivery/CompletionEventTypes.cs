namespace ImageJobs.Workflow.Delivery;

/// <summary>The CloudEvent <c>type</c>s ImageJobs sends.</summary>
public static class CompletionEventTypes
{
    /// <summary>The job stored at least one image.</summary>
    public const string Completed = "imagejobs.job.completed";

    /// <summary>The job failed or timed out.</summary>
    public const string Failed = "imagejobs.job.failed";
}
