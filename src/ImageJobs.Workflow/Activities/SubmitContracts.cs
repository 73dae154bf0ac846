using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Provider;

namespace ImageJobs.Workflow.Activities;

/// <summary>What <see cref="Activities.SubmitTaskActivity"/> ended with.</summary>
/// <param name="TaskId">The provider's task id when submitted (or found already submitted).</param>
/// <param name="Reused">True when the task id was already recorded for this job, so nothing was paid again.</param>
/// <param name="Error">The provider's error when the submit failed.</param>
/// <param name="Retryable">True when <paramref name="Error"/> is worth retrying (throttling, 5xx).</param>
/// <param name="RetryAfter">The provider's <c>Retry-After</c>, when it sent one.</param>
/// <param name="Window">The expected running time to plan polls with.</param>
public sealed record SubmitOutcome(string? TaskId, bool Reused, JobError? Error, bool Retryable, TimeSpan? RetryAfter, DurationWindow Window)
{
    /// <summary>
    /// The submit slot reserved for the job when its turn under the model's submit rate is later (no task, no error):
    /// wait for it on a durable timer, then pass it back in <see cref="SubmitRequest.ReservedSlot"/>.
    /// </summary>
    public DateTimeOffset? ReservedSlot { get; init; }

    /// <summary>
    /// When the provider accepted the task, by the activity's clock (recorded with the task id, so a reused task keeps its
    /// first time): the poll schedule counts the task's running time from here, not from the later episode that reads
    /// this outcome. <see langword="null"/> when no task was created, or for a reused task recorded without it.
    /// </summary>
    public DateTimeOffset? SubmittedAt { get; init; }

    /// <summary>The provider's rate window in seconds (<see cref="ImageJobsOptions.RateWindowScale"/>), for the poll schedule. Default 1.</summary>
    public double RateWindowScale { get; init; } = 1.0;
}

/// <summary>The input of <see cref="Activities.SubmitTaskActivity"/>.</summary>
/// <param name="Job">The job.</param>
/// <param name="ReservedSlot">The submit slot reserved by an earlier, paced attempt.</param>
public sealed record SubmitRequest(ImageJob Job, DateTimeOffset? ReservedSlot = null);
