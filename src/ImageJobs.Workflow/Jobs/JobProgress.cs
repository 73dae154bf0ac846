namespace ImageJobs.Workflow.Jobs;

/// <summary>The custom status a running job shows: where it is and what it expects.</summary>
/// <param name="Phase">submitting, waiting, downloading, notifying.</param>
/// <param name="TaskId">The provider's task id once submitted.</param>
/// <param name="ProviderStatus">The last provider status seen.</param>
/// <param name="Polls">Status queries so far.</param>
/// <param name="Eta">When the task is expected to be done.</param>
/// <param name="NextPollAt">When the next status query is due.</param>
public sealed record JobProgress(string Phase, string? TaskId = null, string? ProviderStatus = null, int Polls = 0, DateTime? Eta = null, DateTime? NextPollAt = null);
