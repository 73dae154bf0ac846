using Microsoft.Extensions.Logging;

namespace ImageJobs.Durable;

/// <summary>The engine's log messages, source-generated, with stable event ids (1000-1099).</summary>
internal static partial class EngineLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Durable engine {EngineId} started on hub {HubName}")]
    public static partial void EngineStarted(ILogger logger, string engineId, string hubName);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Durable engine {EngineId} stopped")]
    public static partial void EngineStopped(ILogger logger, string engineId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Recovery scan found {Count} unfinished instances")]
    public static partial void Recovered(ILogger logger, int count);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "Instance {InstanceId} scheduled ({Name})")]
    public static partial void Scheduled(ILogger logger, string instanceId, string name);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Instance {InstanceId} is {Status}")]
    public static partial void Finished(ILogger logger, string instanceId, ImageJobs.Workflow.Durable.OrchestrationStatus status);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Error, Message = "Instance {InstanceId} failed: {Error}")]
    public static partial void InstanceFailed(ILogger logger, string instanceId, string error);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Debug, Message = "Instance {InstanceId} changed concurrently; retrying")]
    public static partial void Conflict(ILogger logger, string instanceId);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Debug, Message = "Activity {Name} #{TaskId} of {InstanceId} claimed (claim {Claim})")]
    public static partial void ActivityClaimed(ILogger logger, string name, int taskId, string instanceId, int claim);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "Activity {Name} #{TaskId} of {InstanceId} failed")]
    public static partial void ActivityFailed(ILogger logger, string name, int taskId, string instanceId, Exception exception);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Error, Message = "Processing of instance {InstanceId} failed; it will be retried")]
    public static partial void ProcessingError(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Error, Message = "Background loop {Loop} failed")]
    public static partial void LoopError(ILogger logger, string loop, Exception exception);
}
