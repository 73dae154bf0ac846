using Microsoft.Extensions.Logging;

namespace ImageJobs.Local;

internal static partial class LocalLog
{
    [LoggerMessage(EventId = 3201, Level = LogLevel.Information,
        Message = "Function key: {FunctionKey} (kept in {Path}; IMAGEJOBS_FUNCTION_KEY overrides it)")]
    public static partial void KeptFunctionKey(ILogger logger, string functionKey, string path);
}
