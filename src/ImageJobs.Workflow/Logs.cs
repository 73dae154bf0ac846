// Log event ids: one range per assembly, no id defined twice (LogEventIdTests checks both).
//   1000-1999 ImageJobs.DashScope   2000-2999 ImageJobs.Workflow (this file)   3000-3999 ImageJobs.Local
//   4000-4999 ImageJobs.Functions   5000-5999 ImageJobs.DashScope.Emulator
// Here: 2001-2099 the orchestrator, 2101-2199 the activities, 2201-2299 job history retention,
// 2301-2399 intake events both hosts log (HostLog: one id and one text for the same event in either host).
using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow;

/// <summary>The workflow's log messages (event ids 2000–2999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Job {JobId} has provider task {TaskId} (reused: {Reused}).")]
    public static partial void TaskSubmitted(ILogger logger, string jobId, string taskId, bool reused);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Job {JobId} could not deliver its {Channel}: {Failure}")]
    public static partial void DeliveryFailed(ILogger logger, string jobId, string channel, string failure);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Job {JobId} could not deliver its cancel request to the provider: {Failure}")]
    public static partial void CancelRequestFailed(ILogger logger, string jobId, string failure);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning,
        Message = "Job {JobId} has a submit intent without a task id (attempt {Attempts}): an earlier submit died mid-call and may have been paid; submitting again.")]
    public static partial void UnconfirmedSubmitIntent(ILogger logger, string jobId, int attempts);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information,
        Message = "Job {JobId} sends {Uploaded} input(s) newly uploaded to DashScope's temporary storage and {Reused} uploaded by an earlier attempt.")]
    public static partial void TemporaryInputs(ILogger logger, string jobId, int uploaded, int reused);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Purged the history of {Count} ended jobs created before {Before:O}.")]
    public static partial void HistoryPurged(ILogger logger, int count, DateTimeOffset before);
}

/// <summary>
/// The intake events both hosts log, the Functions app's triggers and the local host's queue trigger and upload scanner
/// alike: one event id and one text for each (event ids 2301–2399).
/// </summary>
public static partial class HostLog
{
    /// <summary>Event 2301: a message of the <c>image-jobs</c> queue started (or found started) its job.</summary>
    /// <param name="logger">The trigger's logger.</param>
    /// <param name="messageId">The queue message id.</param>
    /// <param name="jobId">The job id.</param>
    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "Queue message {MessageId} started job {JobId}.")]
    public static partial void QueueMessageStartedJob(ILogger logger, string messageId, string jobId);

    /// <summary>Event 2302: a blob under <c>uploads/</c> started its job.</summary>
    /// <param name="logger">The trigger's logger.</param>
    /// <param name="blobName">The uploaded blob's name.</param>
    /// <param name="jobId">The job id.</param>
    [LoggerMessage(EventId = 2302, Level = LogLevel.Information, Message = "Upload {BlobName} started job {JobId}.")]
    public static partial void UploadStartedJob(ILogger logger, string blobName, string jobId);

    /// <summary>Event 2303: a blob under <c>uploads/</c> cannot become a job; it is recorded in <c>image-jobs-poison</c>.</summary>
    /// <param name="logger">The trigger's logger.</param>
    /// <param name="blobName">The uploaded blob's name.</param>
    /// <param name="reason">Why it was refused.</param>
    [LoggerMessage(EventId = 2303, Level = LogLevel.Warning, Message = "Upload {BlobName} was not turned into a job (recorded in image-jobs-poison): {Reason}")]
    public static partial void UploadRejected(ILogger logger, string blobName, string reason);
}
