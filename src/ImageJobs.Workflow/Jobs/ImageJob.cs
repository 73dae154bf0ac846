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

/// <summary>
/// Where result images are written: <c>{Container}/{Prefix}{jobId}/{index}.png</c>, or the extension of the image's real
/// type when it is not a PNG (<see cref="Results.ResultImageStore.NameFor"/>).
/// </summary>
/// <param name="Container">The blob container; default <c>results</c>.</param>
/// <param name="Prefix">A name prefix, possibly empty.</param>
public sealed record JobOutput(string Container, string Prefix)
{
    /// <summary>The blob name of image <paramref name="index"/> of a job, when it is a PNG.</summary>
    public string ImageBlobName(string jobId, int index) => FormattableString.Invariant($"{Prefix}{jobId}/{index}.png");

    /// <summary>The blob name of a job's manifest.</summary>
    public string ManifestBlobName(string jobId) => $"{Prefix}{jobId}/manifest.json";
}

/// <summary>The completion channels of a job. The completion queue is always written (see the host options).</summary>
public sealed record JobNotify
{
    /// <summary>A URL that receives a signed CloudEvent (Standard Webhooks headers).</summary>
    [JsonPropertyName("webhookUrl")]
    public string? WebhookUrl { get; init; }

    /// <summary>A queue that receives the CloudEvent instead of the configured completion queue.</summary>
    [JsonPropertyName("queue")]
    public string? Queue { get; init; }

    /// <summary>An orchestration instance that receives the CloudEvent as an external event.</summary>
    [JsonPropertyName("instanceId")]
    public string? InstanceId { get; init; }

    /// <summary>The external event name; default <c>ImageJobCompleted</c>.</summary>
    [JsonPropertyName("eventName")]
    public string? EventName { get; init; }
}

/// <summary>A problem with one field of a job, named by its JSON path (<c>input.prompt</c>, <c>notify.webhookUrl</c>).</summary>
/// <param name="Field">The JSON path.</param>
/// <param name="Message">What is wrong and what is allowed.</param>
public sealed record FieldError(string Field, string Message);
