using ImageJobs.Workflow.Storage;

namespace ImageJobs.Workflow.Jobs;

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
