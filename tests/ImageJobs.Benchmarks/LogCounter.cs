using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Benchmarks;

/// <summary>
/// Replaces the console loggers of the app and its task hub: warnings and errors are counted by category and event id
/// (a sample message kept for each), and only the first few are echoed, so a run that the runtime floods with
/// warnings still prints a readable report, with the counts in it.
/// </summary>
internal sealed class LogCounter : ILoggerProvider
{
    private const int Echo = 5;
    private readonly ConcurrentDictionary<(string Category, int EventId, LogLevel Level), (int Count, string Sample)> _counts = new();
    private int _echoed;

    public static void Use(ILoggingBuilder logging, LogCounter counter) =>
        logging.ClearProviders().AddProvider(counter).SetMinimumLevel(LogLevel.Warning);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Adds the counts to <paramref name="report"/>: totals, then the most frequent kinds.</summary>
    public void Describe(Report report, int top = 6)
    {
        report.Add("log.warnings", _counts.Where(c => c.Key.Level == LogLevel.Warning).Sum(c => c.Value.Count), "", "app + task hub, all categories");
        report.Add("log.errors", _counts.Where(c => c.Key.Level >= LogLevel.Error).Sum(c => c.Value.Count));
        foreach (var ((category, eventId, level), (count, sample)) in _counts.OrderByDescending(c => c.Value.Count).Take(top))
        {
            report.Add($"log.{level.ToString().ToLowerInvariant()}.{category}[{eventId}]", count, "", sample);
        }
    }

    private void Log(string category, LogLevel level, EventId eventId, string message)
    {
        var firstLine = message.Split('\n', 2)[0].Trim();
        var sample = firstLine.Length > 140 ? firstLine[..140] + "…" : firstLine;
        _counts.AddOrUpdate((category, eventId.Id, level), (1, sample), (_, c) => (c.Count + 1, c.Sample));
        if (Interlocked.Increment(ref _echoed) <= Echo)
        {
            Console.Error.WriteLine($"  [{level}] {category}[{eventId.Id}]: {sample}");
        }
    }

    private sealed class Logger(LogCounter owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Log(category, logLevel, eventId, formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})"));
            }
        }
    }
}
