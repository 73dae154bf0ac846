using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Provider;


namespace ImageJobs.Workflow.Orchestrations;

/// <summary>
/// Where a job's wait for its provider task stood when its orchestration continued as new
/// (<see cref="ImageJobOrchestrator.PollsPerExecution"/>): carried in <see cref="Jobs.ImageJob.Waiting"/> so the next
/// execution goes on polling where the last one stopped, and the instance's history holds one execution's polls at most.
/// </summary>
public sealed record JobWaitState
{
    /// <summary>When the job started (its first execution's start): its deadline and result times count from here.</summary>
    public required DateTime StartedAt { get; init; }

    /// <summary>The submit's outcome: the provider task, its duration window and rate window.</summary>
    public required SubmitOutcome Submitted { get; init; }

    /// <summary>Polls made so far, over every execution.</summary>
    public int Polls { get; init; }

    /// <summary>Whether the task was last seen running (rather than queued).</summary>
    public bool Running { get; init; }

    /// <summary>When the task started running, as far as the polls know.</summary>
    public DateTime StartedRunning { get; init; }

    /// <summary>The provider's status at the last poll.</summary>
    public required string ProviderStatus { get; init; }

    /// <summary>The duration window the last poll reported.</summary>
    public DurationWindow Window { get; init; }

    /// <summary>The jobs of this model waiting at the last poll.</summary>
    public int ActiveJobs { get; init; } = 1;

    /// <summary>The queue wait the last poll estimated.</summary>
    public TimeSpan QueueWait { get; init; }
}
