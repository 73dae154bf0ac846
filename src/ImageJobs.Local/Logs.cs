// Log event ids: one range per assembly, no id defined twice (LogEventIdTests checks both).
//   1000-1999 ImageJobs.DashScope   2000-2999 ImageJobs.Workflow   3000-3999 ImageJobs.Local (this file)
//   4000-4999 ImageJobs.Functions   5000-5999 ImageJobs.DashScope.Emulator
// Here: 3001-3099 the queue trigger, 3101-3199 the upload scanner, 3201-3299 serve. The events the Functions app logs
// too (a queue message or an upload started a job, an upload was refused) are the workflow's HostLog (2301-2399).
namespace ImageJobs.Local;

/// <summary>The local host's log messages (event ids 3000–3999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Queue message {MessageId} failed (try {DequeueCount}): {Reason}")]
    public static partial void QueueMessageRetried(ILogger logger, string messageId, long dequeueCount, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Queue message {MessageId} moved to image-jobs-poison on try {DequeueCount}: {Reason}")]
    public static partial void QueueMessagePoisoned(ILogger logger, string messageId, long dequeueCount, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "The image-jobs queue trigger could not reach storage.")]
    public static partial void QueueUnreachable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "The uploads scan failed; scanning again.")]
    public static partial void UploadScanFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Upload {BlobName} could not be handled (storage); trying again on the next scan.")]
    public static partial void UploadStorageFailed(ILogger logger, string blobName, Exception exception);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Debug, Message = "Upload {BlobName}: job {JobId} exists already (another scan or process started it).")]
    public static partial void UploadAlreadyStarted(ILogger logger, string blobName, string jobId);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information,
        Message = "Function key: {FunctionKey} (kept in {Path}; IMAGEJOBS_FUNCTION_KEY overrides it)")]
    public static partial void KeptFunctionKey(ILogger logger, string functionKey, string path);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Purging old job histories failed; tried again in an hour: {Reason}")]
    public static partial void PurgeFailed(ILogger logger, string reason);
}
