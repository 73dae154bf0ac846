namespace ImageJobs.Workflow.Hosting;

/// <summary>How long the app keeps what it keeps, bound from <c>ImageJobs:Retention</c>.</summary>
public sealed class RetentionOptions
{
    /// <summary>
    /// <c>ImageJobs:Retention:JobHistory</c>: how long the durable state of an ended job (its history and status, what
    /// the jobs API shows) is kept before <see cref="Jobs.JobHistoryRetention"/> purges it. Result images and manifests
    /// are not affected. Zero turns purging off. Default 7 days.
    /// </summary>
    public TimeSpan JobHistory { get; set; } = TimeSpan.FromDays(7);
}
