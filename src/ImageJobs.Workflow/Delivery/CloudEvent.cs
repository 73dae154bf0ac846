using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageJobs.Workflow.Delivery;

/// <summary>
/// A CloudEvents 1.0 envelope in the JSON event format (structured mode), as ImageJobs sends it on every completion
/// channel (webhook body, completion queue message, external event payload).
/// </summary>
/// <typeparam name="T">The type of <see cref="Data"/>.</typeparam>
public sealed record CloudEvent<T>
{
    /// <summary>Always <c>1.0</c>.</summary>
    [JsonPropertyName("specversion")]
    public string SpecVersion { get; init; } = "1.0";

    /// <summary>Identifies the event; the same for every retry of one delivery, so receivers can de-duplicate.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The producer, e.g. <c>/imagejobs/jobs</c>.</summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>The event type, e.g. <c>imagejobs.job.completed</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>The job id the event is about.</summary>
    [JsonPropertyName("subject")]
    public string? Subject { get; init; }

    /// <summary>When the event happened.</summary>
    [JsonPropertyName("time")]
    public DateTimeOffset Time { get; init; }

    /// <summary>Always <c>application/json</c>.</summary>
    [JsonPropertyName("datacontenttype")]
    public string DataContentType { get; init; } = "application/json";

    /// <summary>The payload.</summary>
    [JsonPropertyName("data")]
    public required T Data { get; init; }

    /// <summary>Serializes the envelope to UTF-8 JSON with the given options for <see cref="Data"/>.</summary>
    public byte[] ToUtf8Json(JsonSerializerOptions options) => JsonSerializer.SerializeToUtf8Bytes(this, options);
}
