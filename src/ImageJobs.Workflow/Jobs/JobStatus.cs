using System.Text.Json.Serialization;

namespace ImageJobs.Workflow.Jobs;

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
