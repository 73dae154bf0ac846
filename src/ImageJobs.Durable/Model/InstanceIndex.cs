using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Model;

/// <summary>
/// The queryable summary of an instance, kept next to its document (blob metadata) so that listing, queries and
/// recovery scans need not download every instance.
/// </summary>
/// <param name="InstanceId">The instance id.</param>
/// <param name="Name">The orchestration name.</param>
/// <param name="Status">The runtime status.</param>
/// <param name="CreatedAt">When the instance was created (UTC).</param>
/// <param name="LastUpdatedAt">When it last changed (UTC).</param>
/// <param name="HasWork">Whether messages, outbox entries or activities are pending.</param>
/// <param name="NextWakeUp">The earliest pending timer, if any.</param>
public sealed record InstanceIndex(
    string InstanceId,
    string Name,
    OrchestrationStatus Status,
    DateTime CreatedAt,
    DateTime LastUpdatedAt,
    bool HasWork,
    DateTime? NextWakeUp);
