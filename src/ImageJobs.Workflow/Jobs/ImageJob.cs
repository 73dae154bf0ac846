using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ImageJobs.Workflow.Jobs;

/// <summary>
/// A validated image job: the orchestration's input. Built from the public JSON contract by
/// <see cref="ImageJobParser"/>; the same for HTTP, queue, upload and CLI.
/// </summary>
public sealed record ImageJob
{
    /// <summary>The job id, also the orchestration instance id and the idempotency key.</summary>
    public required string JobId { get; init; }

    /// <summary>The DashScope model.</summary>
    public required string Model { get; init; }

    /// <summary>DashScope's <c>input</c> object, as the user wrote it (image fields may be <c>blob:</c> references).</summary>
    public required JsonObject Input { get; init; }

    /// <summary>DashScope's <c>parameters</c> object.</summary>
    public JsonObject Parameters { get; init; } = [];

    /// <summary>Where the result images go.</summary>
    public required JobOutput Output { get; init; }

    /// <summary>Who is told when the job ends.</summary>
    public JobNotify Notify { get; init; } = new();

    /// <summary>How long the job may take from submission before it is cancelled and ends as timed out.</summary>
    public TimeSpan Timeout { get; init; } = ImageJobParser.DefaultTimeout;

    /// <summary>
    /// Set only by the orchestration itself when it continues as new while it polls: where the wait stood. Never part of
    /// the public contract (the parser does not read it, and the jobs API does not show it); absent for a new job.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Orchestrations.JobWaitState? Waiting { get; init; }
}
