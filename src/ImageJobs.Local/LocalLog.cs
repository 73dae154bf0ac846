using Microsoft.Extensions.Logging;

namespace ImageJobs.Local;

internal static partial class LocalLog
{
    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning,
        Message = "IMAGEJOBS_FUNCTION_KEY is not set; generated a development function key for this run: {FunctionKey}")]
    public static partial void GeneratedFunctionKey(ILogger logger, string functionKey);
}
