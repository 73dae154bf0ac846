using System.Text.Json.Serialization;

namespace ImageJobs.Workflow.Durable;

/// <summary>The runtime status of an instance; mirrors <c>OrchestrationRuntimeStatus</c> (same members).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OrchestrationStatus>))]
public enum OrchestrationStatus
{
    /// <summary>Running (or waiting on a timer, activity or event).</summary>
    Running = 0,

    /// <summary>Completed successfully.</summary>
    Completed = 1,

    /// <summary>Restarting with a new input (transient).</summary>
    ContinuedAsNew = 2,

    /// <summary>Failed with an unhandled exception.</summary>
    Failed = 3,

    /// <summary>Canceled (not used by the embedded engine).</summary>
    Canceled = 4,

    /// <summary>Terminated by a client.</summary>
    Terminated = 5,

    /// <summary>Scheduled but not started yet.</summary>
    Pending = 6,

    /// <summary>Suspended by a client; resumes with <see cref="IOrchestrationClient.ResumeInstanceAsync"/>.</summary>
    Suspended = 7,
}

/// <summary>Helpers on <see cref="OrchestrationStatus"/>.</summary>
public static class OrchestrationStatusExtensions
{
    /// <summary>Completed, Failed, Terminated or Canceled: the instance will not make progress again.</summary>
    /// <param name="status">The status.</param>
    public static bool IsTerminal(this OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;
}

/// <summary>
/// A snapshot of an orchestration instance; mirrors <c>Microsoft.DurableTask.Client.OrchestrationMetadata</c>.
/// </summary>
/// <param name="Name">The orchestration name.</param>
/// <param name="InstanceId">The instance id.</param>
public sealed record OrchestrationInstance(string Name, string InstanceId)
{
    /// <summary>The runtime status.</summary>
    public OrchestrationStatus RuntimeStatus { get; init; }

    /// <summary>When the instance was scheduled.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the instance last changed.</summary>
    public DateTimeOffset LastUpdatedAt { get; init; }

    /// <summary>The input as JSON (only when inputs and outputs were requested).</summary>
    public string? SerializedInput { get; init; }

    /// <summary>The output as JSON (only when requested; the termination reason for terminated instances).</summary>
    public string? SerializedOutput { get; init; }

    /// <summary>The custom status as JSON (only when requested).</summary>
    public string? SerializedCustomStatus { get; init; }

    /// <summary>Why the instance failed, for <see cref="OrchestrationStatus.Failed"/>.</summary>
    public OrchestrationFailureDetails? FailureDetails { get; init; }

    /// <summary>Whether the status is Running.</summary>
    public bool IsRunning => RuntimeStatus == OrchestrationStatus.Running;

    /// <summary>Whether the status is terminal (Completed, Failed, Terminated, Canceled).</summary>
    public bool IsCompleted => RuntimeStatus.IsTerminal();

    /// <summary>Deserializes the input.</summary>
    /// <typeparam name="T">The input type.</typeparam>
    public T? ReadInputAs<T>() => DurableJson.Deserialize<T>(SerializedInput);

    /// <summary>Deserializes the output.</summary>
    /// <typeparam name="T">The output type.</typeparam>
    public T? ReadOutputAs<T>() => DurableJson.Deserialize<T>(SerializedOutput);

    /// <summary>Deserializes the custom status.</summary>
    /// <typeparam name="T">The custom status type.</typeparam>
    public T? ReadCustomStatusAs<T>() => DurableJson.Deserialize<T>(SerializedCustomStatus);
}
