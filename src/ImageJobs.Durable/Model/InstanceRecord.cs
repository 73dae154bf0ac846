using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Model;

/// <summary>An activity scheduled by the orchestration and not completed yet: the durable activity work item.</summary>
internal sealed class PendingActivity
{
    public int TaskId { get; init; }

    public required string ExecutionId { get; init; }

    public required string Name { get; init; }

    public string? Input { get; init; }

    /// <summary>The engine that is running it, or <see langword="null"/> when nobody is.</summary>
    public string? LeasedBy { get; set; }

    /// <summary>Until when <see cref="LeasedBy"/> owns it; after that any engine may take it over.</summary>
    public DateTime? LeaseUntil { get; set; }

    /// <summary>How many times it was claimed (1 = first run).</summary>
    public int Claims { get; set; }

    /// <summary>Set only on the in-memory copy that scheduled it (never stored): this engine claimed it in that commit.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsNew { get; init; }
}

/// <summary>A durable timer that has not fired yet.</summary>
internal sealed class PendingTimer
{
    public int TimerId { get; init; }

    public DateTime FireAt { get; init; }
}

/// <summary>A message for another instance, sent after the commit that produced it (at least once).</summary>
internal sealed class OutboxMessage
{
    public string Id { get; init; } = Guid.NewGuid().ToString("N");

    public required string TargetInstanceId { get; init; }

    public required HistoryEvent Event { get; init; }
}

/// <summary>
/// Everything the engine knows about one instance: status, history, inbox of unprocessed messages, pending work.
/// Stored as one JSON document (one blob) and updated with ETag optimistic concurrency.
/// </summary>
internal sealed class InstanceRecord
{
    public required string InstanceId { get; init; }

    public required string Name { get; init; }

    public required string ExecutionId { get; set; }

    public OrchestrationStatus Status { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime LastUpdatedAt { get; set; }

    public string? Input { get; set; }

    public string? Output { get; set; }

    public string? CustomStatus { get; set; }

    public OrchestrationFailureDetails? Failure { get; set; }

    public string? ParentInstanceId { get; init; }

    public int ParentTaskId { get; init; } = -1;

    public string? ParentExecutionId { get; init; }

    public List<HistoryEvent> History { get; set; } = [];

    public List<HistoryEvent> Inbox { get; set; } = [];

    public List<PendingActivity> Activities { get; set; } = [];

    public List<PendingTimer> Timers { get; set; } = [];

    public List<OutboxMessage> Outbox { get; set; } = [];

    /// <summary>Whether any engine has something to do for this instance besides waiting for timers.</summary>
    public bool HasWork => !Status.IsTerminal() && (Inbox.Count > 0 || Outbox.Count > 0 || Activities.Count > 0)
        || Status.IsTerminal() && Outbox.Count > 0;

    /// <summary>The earliest pending timer or scheduled start.</summary>
    public DateTime? NextWakeUp
    {
        get
        {
            DateTime? next = null;
            foreach (var t in Timers)
            {
                next = next is null || t.FireAt < next ? t.FireAt : next;
            }

            foreach (var m in Inbox)
            {
                if (m.Kind == EventKind.ExecutionStarted && m.FireAt is { } at)
                {
                    next = next is null || at < next ? at : next;
                }
            }

            return next;
        }
    }

    public InstanceIndex ToIndex() => new(InstanceId, Name, Status, CreatedAt, LastUpdatedAt, HasWork, Status.IsTerminal() ? null : NextWakeUp);
}
