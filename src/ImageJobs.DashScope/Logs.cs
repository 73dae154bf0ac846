// Log event ids: one range per assembly, no id defined twice (LogEventIdTests checks both).
//   1000-1999 ImageJobs.DashScope (this file)   2000-2999 ImageJobs.Workflow   3000-3999 ImageJobs.Local
//   4000-4999 ImageJobs.Functions               5000-5999 ImageJobs.DashScope.Emulator
// Here: 1100-1199 the client's calls to DashScope.
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope;

/// <summary>The DashScope client's log messages (event ids 1000–1999); never the API key.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "DashScope task {TaskId} submitted for {Model} (request {RequestId}).")]
    public static partial void TaskSubmitted(ILogger logger, string model, string taskId, string? requestId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "DashScope {Operation} returned {Status} (request {RequestId}) in {ElapsedMs} ms.")]
    public static partial void RequestCompleted(ILogger logger, string operation, int status, string? requestId, double elapsedMs);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "DashScope {Operation} returned {Status} {Code} (request {RequestId}) in {ElapsedMs} ms.")]
    public static partial void RequestRejected(ILogger logger, string operation, int status, string? code, string? requestId, double elapsedMs);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "DashScope {Operation} timed out after {Timeout}.")]
    public static partial void RequestTimedOut(ILogger logger, string operation, TimeSpan timeout);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "DashScope {Operation} failed before a response: {Error}.")]
    public static partial void RequestFailed(ILogger logger, string operation, string error);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Debug, Message = "DashScope upload policy for {Model} received (upload host {UploadHost}, request {RequestId}).")]
    public static partial void UploadPolicyReceived(ILogger logger, string model, string uploadHost, string? requestId);
}
