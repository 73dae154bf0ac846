using System.Text.Json.Serialization;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Polling;
using ImageJobs.Workflow.Results;

namespace ImageJobs.Workflow.Pipeline;

/// <summary>What <see cref="Activities.SubmitTaskActivity"/> ended with.</summary>
/// <param name="TaskId">The provider's task id when submitted (or found already submitted).</param>
/// <param name="Reused">True when the task id was already recorded for this job, so nothing was paid again.</param>
/// <param name="Error">The provider's error when the submit failed.</param>
/// <param name="Retryable">True when <paramref name="Error"/> is worth retrying (throttling, 5xx).</param>
/// <param name="RetryAfter">The provider's <c>Retry-After</c>, when it sent one.</param>
/// <param name="Window">The expected running time to plan polls with.</param>
public sealed record SubmitOutcome(string? TaskId, bool Reused, JobError? Error, bool Retryable, TimeSpan? RetryAfter, DurationWindow Window)
{
    /// <summary>A submit slot reserved for the job (when <see cref="Error"/> is <see cref="Activities.SubmitTaskActivity.PacedCode"/>): pass it back when it is due.</summary>
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

/// <summary>Which task to query.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Model">The model (for learning its durations).</param>
/// <param name="TaskId">The provider's task id.</param>
/// <param name="NotBefore">The time the poll was planned for. A durable timer on the Azure Storage provider may wake up
/// to <see cref="Orchestrations.DurableTimers.Granularity"/> before it (see
/// <see cref="Orchestrations.DurableTimers.WaitUntilNearAsync"/>); <see cref="Activities.GetTaskActivity"/> waits out
/// what is left, at most that long, before it queries. <see langword="null"/>: query at once.</param>
public sealed record TaskQuery(string JobId, string Model, string TaskId, DateTimeOffset? NotBefore = null);

/// <summary>A compact view of a provider task, as the orchestration needs it.</summary>
/// <param name="Status">The provider status (<c>PENDING</c>, <c>RUNNING</c>, <c>SUCCEEDED</c>, <c>FAILED</c>, <c>CANCELED</c>, <c>UNKNOWN</c>, or a future value).</param>
/// <param name="ScheduledTime">When the provider started running it.</param>
/// <param name="EndTime">When it ended.</param>
/// <param name="Error">The provider's code and message on FAILED.</param>
/// <param name="Results">One entry per requested image: a URL or a per-image error.</param>
/// <param name="Window">The expected running time to plan the next poll with.</param>
/// <param name="ActiveJobs">How many jobs are polling now (the query budget is shared).</param>
/// <param name="QueueWait">For a PENDING task, its expected wait for the provider: the jobs of its model submitted
/// before it, beyond the model's concurrency (less half a running task), times the mean running time, divided by the concurrency.</param>
public sealed record TaskSnapshot(
    string Status, DateTimeOffset? ScheduledTime, DateTimeOffset? EndTime, JobError? Error,
    IReadOnlyList<TaskResultItem> Results, DurationWindow Window, int ActiveJobs, TimeSpan QueueWait = default)
{
    /// <summary>True for SUCCEEDED, FAILED, CANCELED and UNKNOWN (<see cref="DashScopeTaskStatus.IsTerminal"/>): polling stops.</summary>
    [JsonIgnore]
    public bool IsTerminal => ProviderStatus.IsTerminal;

    /// <summary>True when the task ended with SUCCEEDED.</summary>
    [JsonIgnore]
    public bool IsSucceeded => ProviderStatus == DashScopeTaskStatus.Succeeded;

    /// <summary>True once the provider started the task (anything past PENDING).</summary>
    [JsonIgnore]
    public bool IsRunning => ProviderStatus != DashScopeTaskStatus.Pending;

    private DashScopeTaskStatus ProviderStatus => new(Status ?? string.Empty);
}

/// <summary>One entry of a task's results.</summary>
/// <param name="Url">The signed result URL on success.</param>
/// <param name="Error">The per-image error on failure.</param>
/// <param name="OrigPrompt">The prompt as submitted, when the provider echoes it.</param>
/// <param name="ActualPrompt">The prompt the provider used after extension.</param>
public sealed record TaskResultItem(string? Url, JobError? Error, string? OrigPrompt, string? ActualPrompt);

/// <summary>An error with the provider's (or ImageJobs') code and message.</summary>
/// <param name="Code">A stable code, e.g. <c>InvalidParameter</c>, <c>DataInspectionFailed</c>, <c>ResultUrlExpired</c>, <c>Timeout</c>.</param>
/// <param name="Message">The message.</param>
public sealed record JobError(string Code, string Message);

/// <summary>One image to copy out of the provider's storage.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Model">The model (blob metadata).</param>
/// <param name="Output">Where the job's images go.</param>
/// <param name="TaskId">The provider's task id.</param>
/// <param name="Index">The image's index in the results.</param>
/// <param name="Result">The provider's result entry.</param>
/// <param name="Seed">The seed the image was made with, when the job set one (image i uses seed + i).</param>
public sealed record DownloadRequest(string JobId, string Model, JobOutput Output, string TaskId, int Index, TaskResultItem Result, long? Seed);

/// <summary>One image of a job's output: stored, or failed with a code.</summary>
/// <param name="Index">Its index in the provider's results.</param>
/// <param name="Container">The container it is stored in.</param>
/// <param name="BlobName">The blob name when stored.</param>
/// <param name="Bytes">Its size when stored.</param>
/// <param name="Sha256">Lower-case hex SHA-256 when stored.</param>
/// <param name="ContentType">Its mime type when stored.</param>
/// <param name="Width">Width in pixels when known.</param>
/// <param name="Height">Height in pixels when known.</param>
/// <param name="Error">Why it is missing.</param>
public sealed record JobImage(int Index, string? Container, string? BlobName, long? Bytes, string? Sha256, string? ContentType, int? Width, int? Height, JobError? Error)
{
    /// <summary>A stored image.</summary>
    public static JobImage Stored(int index, string container, StoredImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new(index, container, image.BlobName, image.Bytes, image.Sha256, image.ContentType, image.Width, image.Height, null);
    }

    /// <summary>A missing image.</summary>
    public static JobImage Failed(int index, JobError error) => new(index, null, null, null, null, null, null, null, error);
}

/// <summary>How a job ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobStatus>))]
public enum JobStatus
{
    /// <summary>At least one image is stored (others may carry per-image errors).</summary>
    Succeeded,

    /// <summary>No image: the provider refused or failed the task, or every image failed.</summary>
    Failed,

    /// <summary>The job's timeout passed before the provider finished.</summary>
    TimedOut,

    /// <summary>The job was cancelled (<c>POST /api/jobs/{id}/cancel</c>).</summary>
    Canceled,
}

/// <summary>
/// The job's output: the orchestration's output and the <c>data</c> of every completion event.
/// </summary>
public sealed record JobResult
{
    /// <summary>The job id.</summary>
    public required string JobId { get; init; }

    /// <summary>How the job ended.</summary>
    public required JobStatus Status { get; init; }

    /// <summary>The model.</summary>
    public required string Model { get; init; }

    /// <summary>The provider's task id, when a task was created.</summary>
    public string? TaskId { get; init; }

    /// <summary>The final provider status, when known.</summary>
    public string? ProviderStatus { get; init; }

    /// <summary>Why the job failed or timed out.</summary>
    public JobError? Error { get; init; }

    /// <summary>Every image, stored or not, by index.</summary>
    public IReadOnlyList<JobImage> Images { get; init; } = [];

    /// <summary>How many status queries the job made.</summary>
    public int Polls { get; init; }

    /// <summary>When the orchestration started.</summary>
    public DateTime StartedAt { get; init; }

    /// <summary>When the job saw the provider's final status (the last poll).</summary>
    public DateTime? DetectedAt { get; init; }

    /// <summary>When the job ended.</summary>
    public DateTime CompletedAt { get; init; }

    /// <summary>The blob name of <c>manifest.json</c>, when written.</summary>
    public string? Manifest { get; init; }
}

/// <summary>The custom status a running job shows: where it is and what it expects.</summary>
/// <param name="Phase">submitting, waiting, downloading, notifying.</param>
/// <param name="TaskId">The provider's task id once submitted.</param>
/// <param name="ProviderStatus">The last provider status seen.</param>
/// <param name="Polls">Status queries so far.</param>
/// <param name="Eta">When the task is expected to be done.</param>
/// <param name="NextPollAt">When the next status query is due.</param>
public sealed record JobProgress(string Phase, string? TaskId = null, string? ProviderStatus = null, int Polls = 0, DateTime? Eta = null, DateTime? NextPollAt = null);

/// <summary>A completion to deliver on one channel.</summary>
/// <param name="Job">The job (its notify settings).</param>
/// <param name="Event">The CloudEvent to deliver.</param>
public sealed record CompletionDelivery(ImageJob Job, Events.CloudEvent<JobResult> Event);
