using ImageJobs.Workflow.Hosting;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Durable;

/// <summary>
/// Settings of the embedded engine, named after Durable Functions' <c>host.json</c> (<c>extensions.durableTask</c>).
/// <see cref="FromHostJson"/> reads them the way Durable Functions does.
/// </summary>
public sealed class DurableEngineOptions
{
    /// <summary>The Azurite connection string <c>UseDevelopmentStorage=true</c> stands for.</summary>
    public const string DevelopmentStorageConnectionString = StorageClients.DevelopmentConnectionString;

    /// <summary>The task hub (<c>extensions.durableTask.hubName</c>): engines on the same hub share instances.</summary>
    public string HubName { get; set; } = "ImageJobsHub";

    /// <summary>The storage connection string (the value of <c>AzureWebJobsStorage</c>); only the blob store uses it.</summary>
    public string? StorageConnectionString { get; set; }

    /// <summary>How many activities run at once in this engine (<c>maxConcurrentActivityFunctions</c>).</summary>
    public int MaxConcurrentActivityFunctions { get; set; } = 10;

    /// <summary>How many orchestration episodes run at once in this engine (<c>maxConcurrentOrchestratorFunctions</c>).</summary>
    public int MaxConcurrentOrchestratorFunctions { get; set; } = 5;

    /// <summary>How long a claimed activity belongs to its engine without renewal; a dead engine's activity is re-run after it.</summary>
    public TimeSpan ActivityLeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the engine scans the hub for work other engines left (<c>maxQueuePollingInterval</c>).</summary>
    public TimeSpan InstancePollingInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often <c>WaitForInstanceCompletionAsync</c> re-reads an instance another engine is running.</summary>
    public TimeSpan ClientPollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message if a setting is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(HubName) || HubName.Length is < 3 or > 45 || !char.IsAsciiLetter(HubName[0])
            || !HubName.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"Task hub name '{HubName}' is invalid: use 3-45 ASCII letters and digits, starting with a letter (as Durable requires).");
        }

        if (MaxConcurrentActivityFunctions < 1 || MaxConcurrentOrchestratorFunctions < 1)
        {
            throw new ArgumentException("MaxConcurrentActivityFunctions and MaxConcurrentOrchestratorFunctions must be at least 1.");
        }

        if (ActivityLeaseDuration <= TimeSpan.Zero || InstancePollingInterval <= TimeSpan.Zero || ClientPollingInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("ActivityLeaseDuration, InstancePollingInterval and ClientPollingInterval must be positive.");
        }
    }

    /// <summary>
    /// Reads <c>extensions.durableTask</c> from a <c>host.json</c> (hubName, maxConcurrent*Functions,
    /// storageProvider.connectionName and maxQueuePollingInterval) and the connection string named by
    /// <c>connectionName</c> (default <c>AzureWebJobsStorage</c>) from <paramref name="configuration"/>, also under
    /// <c>Values:</c> as in <c>local.settings.json</c>. <c>UseDevelopmentStorage=true</c> becomes the Azurite defaults.
    /// </summary>
    /// <param name="hostJsonPath">The host.json path.</param>
    /// <param name="configuration">App settings / environment.</param>
    public static DurableEngineOptions FromHostJson(string hostJsonPath, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new DurableEngineOptions();
        var connectionName = "AzureWebJobsStorage";
        using (var document = JsonDocument.Parse(File.ReadAllText(hostJsonPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
        {
            if (document.RootElement.TryGetProperty("extensions", out var extensions)
                && extensions.TryGetProperty("durableTask", out var durable))
            {
                if (durable.TryGetProperty("hubName", out var hub) && hub.ValueKind == JsonValueKind.String)
                {
                    options.HubName = hub.GetString()!;
                }

                if (durable.TryGetProperty("maxConcurrentActivityFunctions", out var activities) && activities.TryGetInt32(out var a))
                {
                    options.MaxConcurrentActivityFunctions = a;
                }

                if (durable.TryGetProperty("maxConcurrentOrchestratorFunctions", out var orchestrators) && orchestrators.TryGetInt32(out var o))
                {
                    options.MaxConcurrentOrchestratorFunctions = o;
                }

                if (durable.TryGetProperty("storageProvider", out var provider))
                {
                    if (provider.TryGetProperty("connectionName", out var name) && name.ValueKind == JsonValueKind.String)
                    {
                        connectionName = name.GetString()!;
                    }

                    if (provider.TryGetProperty("maxQueuePollingInterval", out var polling) && polling.ValueKind == JsonValueKind.String
                        && TimeSpan.TryParse(polling.GetString(), CultureInfo.InvariantCulture, out var interval))
                    {
                        options.InstancePollingInterval = interval;
                    }
                }
            }
        }

        // Durable Functions lets an app setting override the hub name with %Setting% syntax.
        if (options.HubName.Length > 2 && options.HubName.StartsWith('%') && options.HubName.EndsWith('%'))
        {
            options.HubName = configuration[options.HubName[1..^1]] ?? options.HubName;
        }

        var connection = configuration[connectionName] ?? configuration[$"Values:{connectionName}"];
        options.StorageConnectionString = ResolveConnectionString(connection);
        return options;
    }

    /// <summary>Expands <c>UseDevelopmentStorage=true</c> to the Azurite defaults; other values are returned as they are.</summary>
    /// <param name="connectionString">The configured value.</param>
    public static string? ResolveConnectionString(string? connectionString) => StorageClients.ExpandDevelopmentStorage(connectionString);
}
