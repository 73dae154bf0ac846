using System.Globalization;
using DurableTask.AzureStorage;
using ImageJobs.Local.Durable;

namespace ImageJobs.Benchmarks;

/// <summary>
/// The Durable extension's knobs, from the command line to <see cref="TaskHubSettings.OverridePrefix"/> configuration
/// keys (the way an <c>AzureFunctionsJobHost__extensions__durableTask__*</c> app setting overrides host.json), and the
/// settings the task hub actually ran with, for every report.
/// </summary>
internal sealed class RuntimeKnobs
{
    public const string Usage = """
                   runtime knobs (override host.json's extensions.durableTask; unset = host.json):
                   --max-queue-polling-interval S   storageProvider.maxQueuePollingInterval, seconds or hh:mm:ss
                   --partitions N                   storageProvider.partitionCount (1-16)
                   --control-queue-batch-size N     storageProvider.controlQueueBatchSize
                   --extended-sessions true|false   extendedSessionsEnabled
                   --max-orchestrators N            maxConcurrentOrchestratorFunctions
                   --max-activities N               maxConcurrentActivityFunctions
                   --control-queue-visibility S     storageProvider.controlQueueVisibilityTimeout, seconds (60-3600;
                                                    unset or 300, Durable's default: the local
                                                    host's 10 s, see LocalRecovery)
        """;

    private readonly Dictionary<string, string?> _overrides = new(StringComparer.OrdinalIgnoreCase);

    public static RuntimeKnobs Parse(BenchmarkArgs args)
    {
        var knobs = new RuntimeKnobs();
        if (args.GetOrNull("max-queue-polling-interval") is { } interval)
        {
            var value = double.TryParse(interval, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture)
                : interval;
            knobs.Set("storageProvider:maxQueuePollingInterval", value);
        }

        if (args.GetOrNull("control-queue-visibility") is { } visibility)
        {
            knobs.Set("storageProvider:controlQueueVisibilityTimeout",
                TimeSpan.FromSeconds(double.Parse(visibility, CultureInfo.InvariantCulture)).ToString("c", CultureInfo.InvariantCulture));
        }

        knobs.SetIf(args, "partitions", "storageProvider:partitionCount");
        knobs.SetIf(args, "control-queue-batch-size", "storageProvider:controlQueueBatchSize");
        knobs.SetIf(args, "extended-sessions", "extendedSessionsEnabled");
        knobs.SetIf(args, "max-orchestrators", "maxConcurrentOrchestratorFunctions");
        knobs.SetIf(args, "max-activities", "maxConcurrentActivityFunctions");
        return knobs;
    }

    /// <summary>The configuration overrides for <c>LocalAppOptions.Overrides</c>.</summary>
    public IReadOnlyDictionary<string, string?> Overrides => _overrides;

    /// <summary>Adds the settings the hub ran with to <paramref name="report"/> and prints them on one line.</summary>
    public static void Describe(AzureStorageOrchestrationServiceSettings settings, Report report)
    {
        var rows = new (string Name, object Value)[]
        {
            ("settings.maxQueuePollingInterval_s", settings.MaxQueuePollingInterval.TotalSeconds),
            ("settings.partitionCount", settings.PartitionCount),
            ("settings.controlQueueBatchSize", settings.ControlQueueBatchSize),
            ("settings.extendedSessionsEnabled", settings.ExtendedSessionsEnabled),
            ("settings.maxConcurrentOrchestratorFunctions", settings.MaxConcurrentTaskOrchestrationWorkItems),
            ("settings.maxConcurrentActivityFunctions", settings.MaxConcurrentTaskActivityWorkItems),
            ("settings.controlQueueVisibilityTimeout_s", settings.ControlQueueVisibilityTimeout.TotalSeconds),
            ("settings.controlQueueBufferThreshold", settings.ControlQueueBufferThreshold),
            ("settings.workItemQueueVisibilityTimeout_s", settings.WorkItemQueueVisibilityTimeout.TotalSeconds),
        };
        foreach (var (name, value) in rows)
        {
            report.Add(name, value is bool b ? b.ToString().ToLowerInvariant() : value);
        }

        Console.WriteLine("  runtime: " + string.Join(", ", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Name["settings.".Length..]}={r.Value}"))));
    }

    private void SetIf(BenchmarkArgs args, string option, string key)
    {
        if (args.GetOrNull(option) is { } value)
        {
            Set(key, value);
        }
    }

    private void Set(string key, string value) => _overrides[TaskHubSettings.OverridePrefix + ":" + key] = value;
}
