using System.Text.Json.Serialization;

namespace ImageJobs.Workflow.Jobs;

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
