using System.Text.Json.Serialization;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Model;

/// <summary>The kinds of history events and inbox messages, named after DurableTask.Core's.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EventKind>))]
internal enum EventKind
{
    ExecutionStarted,
    OrchestratorStarted,
    TaskScheduled,
    TaskCompleted,
    TaskFailed,
    TimerCreated,
    TimerFired,
    SubOrchestrationCreated,
    SubOrchestrationCompleted,
    SubOrchestrationFailed,
    EventRaised,
    EventSent,
    ExecutionSuspended,
    ExecutionResumed,
    ExecutionTerminated,
}

/// <summary>
/// One history event or inbox message. Scheduling events carry <see cref="EventId"/> (the sequence number the
/// orchestrator code assigned); completions carry <see cref="TaskId"/> (the id of the event they complete).
/// </summary>
internal sealed class HistoryEvent
{
    public EventKind Kind { get; init; }

    /// <summary>Sequence number of a scheduling event (TaskScheduled, TimerCreated, SubOrchestrationCreated, EventSent).</summary>
    public int EventId { get; init; } = -1;

    /// <summary>For completions: the <see cref="EventId"/> of the scheduling event; for a child's ExecutionStarted: the parent's task id.</summary>
    public int TaskId { get; init; } = -1;

    public DateTime Timestamp { get; init; }

    /// <summary>Activity, orchestration or event name.</summary>
    public string? Name { get; init; }

    /// <summary>Input, result or payload as JSON.</summary>
    public string? Data { get; init; }

    /// <summary>Target instance (sub-orchestration, sent event) or parent instance (a child's ExecutionStarted).</summary>
    public string? InstanceId { get; init; }

    /// <summary>Execution the message is addressed to; messages for an older execution (before ContinueAsNew) are dropped.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>Timer fire time, or the scheduled start time of an ExecutionStarted.</summary>
    public DateTime? FireAt { get; init; }

    public OrchestrationFailureDetails? Failure { get; init; }

    public override string ToString() => $"{Kind}#{(EventId >= 0 ? EventId : TaskId)} {Name}";
}
