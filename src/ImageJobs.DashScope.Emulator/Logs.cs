// Log event ids: one range per assembly, no id defined twice (LogEventIdTests checks both).
//   1000-1999 ImageJobs.DashScope   2000-2999 ImageJobs.Workflow   3000-3999 ImageJobs.Local
//   4000-4999 ImageJobs.Functions   5000-5999 ImageJobs.DashScope.Emulator (this file)
// Here: 5001-5099 the data folder.
namespace ImageJobs.DashScope.Emulator;

/// <summary>The emulator's log messages (event ids 5000–5999).</summary>
internal static partial class Log
{
    /// <summary>The category the emulator logs under.</summary>
    public const string Category = "ImageJobs.DashScope.Emulator";

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information,
        Message = "DashScope emulator data folder {Folder}: read back {Tasks} tasks and {Uploads} uploads; removed {Expired} expired; skipped {Skipped} files.")]
    public static partial void DataRestored(ILogger logger, string folder, int tasks, int uploads, int expired, int skipped);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "DashScope emulator data folder: skipped {File}: {Reason}")]
    public static partial void FileSkipped(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning,
        Message = "DashScope emulator data folder: could not write {File} (the emulator keeps it in memory, so it will not survive a restart): {Error}")]
    public static partial void WriteFailed(ILogger logger, string file, string error);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning,
        Message = "DashScope emulator data folder {Folder} is in use by another emulator; this one keeps its state in memory.")]
    public static partial void FolderInUse(ILogger logger, string folder);
}
