// Log event ids: one range per assembly, no id defined twice (LogEventIdTests checks both).
//   1000-1999 ImageJobs.DashScope   2000-2999 ImageJobs.Workflow   3000-3999 ImageJobs.Local
//   4000-4999 ImageJobs.Functions (this file)   5000-5999 ImageJobs.DashScope.Emulator
// Here: 4001-4099 the queue trigger. The events the local host logs too (a queue message or an upload started a job,
// an upload was refused) are the workflow's HostLog (2301-2399).
using Microsoft.Extensions.Logging;

namespace ImageJobs.Functions;

/// <summary>The Functions app's log messages (event ids 4000–4999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Queue message {MessageId} was rejected on try {DequeueCount} and written to image-jobs-poison: {Reason}")]
    public static partial void QueueMessageRejected(ILogger logger, string messageId, long dequeueCount, string reason);
}
