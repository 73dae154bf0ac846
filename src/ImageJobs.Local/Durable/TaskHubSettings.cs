using System.Globalization;
using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Partitioning;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local.Durable;

/// <summary>
/// Builds the Durable Task Framework's <see cref="AzureStorageOrchestrationServiceSettings"/> from the
/// <c>extensions.durableTask</c> section of a Functions <c>host.json</c>, the way the Durable Functions extension
/// (Microsoft.Azure.WebJobs.Extensions.DurableTask 3.x, whose Azure Storage provider is DurableTask.AzureStorage 2.x)
/// does. The local host and the Functions app then read and write the same task hub.
/// </summary>
/// <remarks>
/// <para>Values come from <c>host.json</c>. A configuration key
/// <c>AzureFunctionsJobHost:extensions:durableTask:&lt;path&gt;</c> beats the <c>host.json</c> value, as app settings
/// (<c>AzureFunctionsJobHost__extensions__durableTask__hubName</c>) do in Functions. Keys are case-insensitive. A
/// missing value takes the extension's default, for a host that is not on a consumption plan.</para>
/// <para>Mapped, under <c>extensions.durableTask</c> (setting, then default):</para>
/// <list type="bullet">
/// <item><c>hubName</c>: <see cref="AzureStorageOrchestrationServiceSettings.TaskHubName"/>; <c>%name%</c> tokens are
/// resolved from configuration; default <c>WEBSITE_SITE_NAME</c> (sanitized), else <c>TestHubName</c>.</item>
/// <item><c>maxConcurrentActivityFunctions</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.MaxConcurrentTaskActivityWorkItems"/>; 10 × processor count.</item>
/// <item><c>maxConcurrentOrchestratorFunctions</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.MaxConcurrentTaskOrchestrationWorkItems"/>; 10 × processor count.</item>
/// <item><c>maxConcurrentEntityFunctions</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.MaxConcurrentTaskEntityWorkItems"/>; 10 × processor count.</item>
/// <item><c>maxEntityOperationBatchSize</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.MaxEntityOperationBatchSize"/>; 5000.</item>
/// <item><c>extendedSessionsEnabled</c>: <see cref="AzureStorageOrchestrationServiceSettings.ExtendedSessionsEnabled"/>;
/// false.</item>
/// <item><c>extendedSessionIdleTimeoutInSeconds</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.ExtendedSessionIdleTimeout"/>; 30 s (a negative value becomes 0).</item>
/// <item><c>entityMessageReorderWindowInMinutes</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.EntityMessageReorderWindowInMinutes"/>; 30.</item>
/// <item><c>useAppLease</c>: <see cref="AzureStorageOrchestrationServiceSettings.UseAppLease"/>; true.</item>
/// <item><c>appLeaseOptions.renewInterval</c>, <c>.acquireInterval</c>, <c>.leaseInterval</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.AppLeaseOptions"/>; 25 s, 5 min, 60 s.</item>
/// <item><c>storageProvider.partitionCount</c>: <see cref="AzureStorageOrchestrationServiceSettings.PartitionCount"/>; 4.</item>
/// <item><c>storageProvider.controlQueueBatchSize</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.ControlQueueBatchSize"/>; 32.</item>
/// <item><c>storageProvider.controlQueueBufferThreshold</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.ControlQueueBufferThreshold"/>; 256.</item>
/// <item><c>storageProvider.controlQueueVisibilityTimeout</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.ControlQueueVisibilityTimeout"/>; 5 min.</item>
/// <item><c>storageProvider.workItemQueueVisibilityTimeout</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.WorkItemQueueVisibilityTimeout"/>; 5 min.</item>
/// <item><c>storageProvider.maxQueuePollingInterval</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.MaxQueuePollingInterval"/>; 30 s, or 1 s when <c>WEBSITE_SKU</c>
/// is <c>FlexConsumption</c> (zero also means the default).</item>
/// <item><c>storageProvider.fetchLargeMessagesAutomatically</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.FetchLargeMessageDataEnabled"/>; true.</item>
/// <item><c>storageProvider.useLegacyPartitionManagement</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.UseLegacyPartitionManagement"/>; false.</item>
/// <item><c>storageProvider.useTablePartitionManagement</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.UseTablePartitionManagement"/>; true, or false when
/// <c>useLegacyPartitionManagement</c> is true and this one is not set.</item>
/// <item><c>storageProvider.allowReplayingTerminalInstances</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.AllowReplayingTerminalInstances"/>; false.</item>
/// <item><c>storageProvider.partitionTableOperationTimeout</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.PartitionTableOperationTimeout"/>; 2 s.</item>
/// <item><c>storageProvider.queueClientMessageEncoding</c> (<c>UTF8</c> or <c>Base64</c>):
/// <see cref="AzureStorageOrchestrationServiceSettings.QueueClientMessageEncoding"/>; UTF8.</item>
/// <item><c>storageProvider.useInstanceTableEtag</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.UseInstanceTableEtag"/>; false.</item>
/// <item><c>storageProvider.trackingStoreNamePrefix</c>:
/// <see cref="AzureStorageOrchestrationServiceSettings.TrackingStoreNamePrefix"/>; <c>DurableTask</c>.</item>
/// </list>
/// <para>Set whatever <c>host.json</c> says, as the extension sets them:
/// <see cref="AzureStorageOrchestrationServiceSettings.StorageAccountClientProvider"/> (from the connection string),
/// <see cref="AzureStorageOrchestrationServiceSettings.ThrowExceptionOnInvalidDedupeStatus"/> = true,
/// <see cref="AzureStorageOrchestrationServiceSettings.UseSeparateQueueForEntityWorkItems"/> = true (the dotnet-isolated
/// worker), and <see cref="AzureStorageOrchestrationServiceSettings.AppName"/> = <c>WEBSITE_SITE_NAME</c> or empty.
/// <c>WEBSITE_SITE_NAME</c> and <c>WEBSITE_SKU</c>, which the extension reads from the process environment, are read
/// from <c>configuration</c> here.</para>
/// <para><c>storageProvider.connectionName</c> (and its old name <c>connectionStringName</c>) is not read: the caller
/// passes the connection string. A <c>storageProvider.type</c> other than <c>AzureStorage</c>, and
/// <c>storageProvider.trackingStoreConnectionName</c> (a second account for the History and Instances tables), are
/// rejected, because this host cannot do what Functions would do with them.</para>
/// </remarks>
public static class TaskHubSettings
{
    /// <summary>
    /// The configuration path whose keys override <c>host.json</c>'s <c>extensions.durableTask</c> values, as in
    /// Functions: for example <c>AzureFunctionsJobHost:extensions:durableTask:storageProvider:partitionCount</c>.
    /// </summary>
    public const string OverridePrefix = HostJson.OverridePrefix + ":" + HostJsonSectionKey;

    /// <summary>
    /// The task hub name when <c>hubName</c> is missing and <c>WEBSITE_SITE_NAME</c> is not set: the extension's own
    /// default (its <c>DurableTaskOptions.DefaultHubName</c>), the same for in-process and isolated apps.
    /// </summary>
    public const string DefaultHubName = "TestHubName";

    /// <summary>The extension's <c>storageProvider.controlQueueBufferThreshold</c> when host.json gives none (the framework's own is 64).</summary>
    private const int DefaultControlQueueBufferThreshold = 256;

    private const string SectionPath = "extensions.durableTask";
    private const string HostJsonSectionKey = "extensions:durableTask";

    // The extension checks an explicit name against Azure's blob, container, table and queue rules and a 50-character
    // limit (its message says 45; 45 is where it cuts a generated default name).
    private const int MinHubNameLength = 3;
    private const int MaxHubNameLength = 50;
    private const int MaxSanitizedHubNameLength = 45;

    private const string StorageProvider = "storageProvider:";
    private const string LegacyPartitionKey = StorageProvider + "useLegacyPartitionManagement";
    private const string TablePartitionKey = StorageProvider + "useTablePartitionManagement";

    /// <summary>
    /// Reads <c>extensions.durableTask</c> from <paramref name="hostJson"/>, applies the
    /// <see cref="OverridePrefix"/> keys of <paramref name="configuration"/>, fills in the extension's defaults,
    /// validates the result as the extension does, and returns the settings for an
    /// <see cref="AzureStorageOrchestrationService"/> on <paramref name="storageConnectionString"/>.
    /// </summary>
    /// <param name="hostJson">The app's <c>host.json</c>.</param>
    /// <param name="configuration">
    /// The app's configuration: its <see cref="OverridePrefix"/> keys override <c>host.json</c>, <c>%name%</c> tokens in
    /// <c>hubName</c> resolve against it, and <c>WEBSITE_SITE_NAME</c> is read from it.
    /// </param>
    /// <param name="storageConnectionString">The Azure Storage connection string of the task hub's account.</param>
    /// <returns>New settings; the caller may still set the logger factory and the like.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A string argument is empty or white space.</exception>
    /// <exception cref="InvalidOperationException">
    /// A value cannot be parsed, is out of the extension's range, or is not
    /// supported here. The message names the setting, e.g. <c>extensions.durableTask.storageProvider.partitionCount</c>.
    /// </exception>
    public static AzureStorageOrchestrationServiceSettings FromHostJson(
        HostJson hostJson, IConfiguration configuration, string storageConnectionString)
    {
        ArgumentNullException.ThrowIfNull(hostJson);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(storageConnectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(storageConnectionString);

        var section = new Section(hostJson, configuration);

        var providerType = section.Raw(StorageProvider + "type");
        if (providerType is not null && !string.Equals(providerType, "AzureStorage", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(StorageProvider + "type", providerType, "must be 'AzureStorage' (the only storage provider of this host)");
        }

        foreach (var key in new[] { StorageProvider + "trackingStoreConnectionName", StorageProvider + "trackingStoreConnectionStringName" })
        {
            var value = section.Raw(key);
            if (value is not null)
            {
                throw Invalid(key, value, "is not supported: this host keeps the History and Instances tables in the task hub's own account");
            }
        }

        // Durable Functions defaults for a host outside the consumption plan (AzureStorageDurabilityProviderFactory).
        var concurrencyDefault = 10 * Environment.ProcessorCount;

        var legacyPartitions = section.Bool(LegacyPartitionKey) ?? false;
        var tablePartitionsSet = section.Bool(TablePartitionKey);
        var tablePartitions = tablePartitionsSet ?? true;
        if (legacyPartitions && tablePartitionsSet is null)
        {
            // The extension turns the table partition manager off when only the legacy one is asked for.
            tablePartitions = false;
        }
        else if (legacyPartitions && tablePartitions)
        {
            // DurableTask.AzureStorage refuses both when the service is built; say so here, with the setting's name.
            throw Invalid(TablePartitionKey, "true", "cannot be true together with storageProvider.useLegacyPartitionManagement");
        }

        var settings = new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(storageConnectionString),
            TaskHubName = HubName(section, configuration),
            AppName = configuration["WEBSITE_SITE_NAME"] ?? string.Empty,

            MaxConcurrentTaskActivityWorkItems = section.Positive("maxConcurrentActivityFunctions") ?? concurrencyDefault,
            MaxConcurrentTaskOrchestrationWorkItems = section.Positive("maxConcurrentOrchestratorFunctions") ?? concurrencyDefault,
            MaxConcurrentTaskEntityWorkItems = section.Positive("maxConcurrentEntityFunctions") ?? concurrencyDefault,
            MaxEntityOperationBatchSize = section.Positive("maxEntityOperationBatchSize") ?? 5000,
            ExtendedSessionsEnabled = section.Bool("extendedSessionsEnabled") ?? false,
            ExtendedSessionIdleTimeout = TimeSpan.FromSeconds(Math.Max(section.Int("extendedSessionIdleTimeoutInSeconds") ?? 30, 0)),
            EntityMessageReorderWindowInMinutes = section.Int("entityMessageReorderWindowInMinutes") ?? 30,
            UseAppLease = section.Bool("useAppLease") ?? true,
            AppLeaseOptions = new AppLeaseOptions
            {
                RenewInterval = section.Time("appLeaseOptions:renewInterval") ?? TimeSpan.FromSeconds(25),
                AcquireInterval = section.Time("appLeaseOptions:acquireInterval") ?? TimeSpan.FromMinutes(5),
                LeaseInterval = section.Time("appLeaseOptions:leaseInterval") ?? TimeSpan.FromSeconds(60),
            },

            PartitionCount = section.Ranged(StorageProvider + "partitionCount", 1, 16) ?? 4,
            ControlQueueBatchSize = section.Positive(StorageProvider + "controlQueueBatchSize") ?? 32,
            ControlQueueBufferThreshold = section.Ranged(StorageProvider + "controlQueueBufferThreshold", 1, 1000) ?? DefaultControlQueueBufferThreshold,
            ControlQueueVisibilityTimeout = section.TimeBetween(
                StorageProvider + "controlQueueVisibilityTimeout", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(60)) ?? TimeSpan.FromMinutes(5),
            WorkItemQueueVisibilityTimeout = section.Time(StorageProvider + "workItemQueueVisibilityTimeout") ?? TimeSpan.FromMinutes(5),
            MaxQueuePollingInterval = MaxQueuePollingInterval(section, configuration),
            FetchLargeMessageDataEnabled = section.Bool(StorageProvider + "fetchLargeMessagesAutomatically") ?? true,
            UseLegacyPartitionManagement = legacyPartitions,
            UseTablePartitionManagement = tablePartitions,
            AllowReplayingTerminalInstances = section.Bool(StorageProvider + "allowReplayingTerminalInstances") ?? false,
            PartitionTableOperationTimeout = section.Time(StorageProvider + "partitionTableOperationTimeout") ?? TimeSpan.FromSeconds(2),
            QueueClientMessageEncoding = section.Encoding(StorageProvider + "queueClientMessageEncoding") ?? QueueClientMessageEncoding.UTF8,
            UseInstanceTableEtag = section.Bool(StorageProvider + "useInstanceTableEtag") ?? false,

            // The extension sets this for Azure Storage (GetAzureStorageOrchestrationServiceSettings): starting an
            // instance whose current status is in the dedupe statuses throws OrchestrationAlreadyExistsException
            // instead of being dropped silently (the framework's own default is false).
            ThrowExceptionOnInvalidDedupeStatus = true,

            // The extension sets this for dotnet-isolated, Java, custom, native and Go workers (the out-of-process
            // ones), and ImageJobs.Functions is dotnet-isolated.
            UseSeparateQueueForEntityWorkItems = true,
        };

        // Only a non-empty prefix replaces the framework's "DurableTask", as in the extension.
        var trackingPrefix = section.Raw(StorageProvider + "trackingStoreNamePrefix");
        if (!string.IsNullOrEmpty(trackingPrefix))
        {
            settings.TrackingStoreNamePrefix = trackingPrefix;
        }

        return settings;
    }

    /// <summary>
    /// Which keys of <c>extensions.durableTask</c> <paramref name="hostJson"/> or the <see cref="OverridePrefix"/>
    /// keys of <paramref name="configuration"/> give: a predicate over keys below the section, <c>:</c>-separated
    /// (<c>storageProvider:controlQueueBufferThreshold</c>). It tells a value given as the default from one left out.
    /// </summary>
    public static Func<string, bool> Given(HostJson hostJson, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(hostJson);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = new Section(hostJson, configuration);
        return key => section.Raw(key) is not null;
    }

    private static TimeSpan MaxQueuePollingInterval(Section section, IConfiguration configuration)
    {
        // In the extension (3.18) zero means "not set", and the default is 1 s on Flex Consumption, else 30 s; it
        // rejects only a negative interval. It reads WEBSITE_SKU from the process environment; here from configuration.
        const string key = StorageProvider + "maxQueuePollingInterval";
        var value = section.Time(key);
        if (value < TimeSpan.Zero)
        {
            throw Invalid(key, section.Raw(key)!, "must not be negative");
        }

        if (value is { } set && set != TimeSpan.Zero)
        {
            return set;
        }

        return string.Equals(configuration["WEBSITE_SKU"], "FlexConsumption", StringComparison.OrdinalIgnoreCase)
            ? TimeSpan.FromSeconds(1)
            : TimeSpan.FromSeconds(30);
    }

    private static string HubName(Section section, IConfiguration configuration)
    {
        var configured = section.Raw("hubName");
        if (configured is null)
        {
            // The extension's default is WEBSITE_SITE_NAME, else "TestHubName", made into a valid name rather than
            // rejected. It reads the process environment; here that comes through the app's configuration.
            return SanitizeDefault(configuration["WEBSITE_SITE_NAME"] ?? DefaultHubName);
        }

        // Functions resolves %name% tokens in hubName from app settings and keeps the text as it is when one fails.
        var hubName = ResolveTokens(configured, configuration) ?? configured;
        if (!IsValidHubName(hubName))
        {
            throw Invalid("hubName", hubName,
                $"is not a valid task hub name: it must start with a letter, hold only letters and digits, and be {MinHubNameLength} to {MaxHubNameLength} characters long");
        }

        return hubName;
    }

    private static bool IsValidHubName(string name)
    {
        // Azure's table rule (an ASCII letter, then ASCII letters and digits) and its container and queue rules on the
        // lower-cased name leave exactly this, with the extension's 50-character limit on top.
        if (name.Length is < MinHubNameLength or > MaxHubNameLength || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string SanitizeDefault(string name)
    {
        var kept = new List<char>(name.Length + 1);
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                kept.Add(c);
            }
        }

        if (kept.Count == 0)
        {
            return "DefaultTaskHub";
        }

        if (char.IsNumber(kept[0]))
        {
            kept.Insert(0, 't');
        }

        var sanitized = new string(kept.Take(MaxSanitizedHubNameLength).ToArray());
        return sanitized.Length < MinHubNameLength ? sanitized + "Hub" : sanitized;
    }

    private static string? ResolveTokens(string text, IConfiguration configuration)
    {
        var result = new System.Text.StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var start = text.IndexOf('%', i);
            if (start < 0)
            {
                result.Append(text, i, text.Length - i);
                break;
            }

            var end = text.IndexOf('%', start + 1);
            if (end < 0)
            {
                return null;
            }

            var value = configuration[text[(start + 1)..end]];
            if (value is null)
            {
                return null;
            }

            result.Append(text, i, start - i).Append(value);
            i = end + 1;
        }

        return result.ToString();
    }

    private static InvalidOperationException Invalid(string key, string value, string problem) =>
        new($"{SectionPath}.{key.Replace(':', '.')} {problem} (got '{value}').");

    /// <summary>The merged <c>extensions.durableTask</c> section: configuration overrides first, then host.json.</summary>
    private sealed class Section(HostJson hostJson, IConfiguration configuration)
    {
        public string? Raw(string key) => hostJson.Get(HostJsonSectionKey + ":" + key, configuration);

        public int? Int(string key)
        {
            var raw = Raw(key);
            if (raw is null)
            {
                return null;
            }

            return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Invalid(key, raw, "must be an integer");
        }

        public int? Positive(string key)
        {
            var value = Int(key);
            return value is <= 0 ? throw Invalid(key, Raw(key)!, "must be a positive integer") : value;
        }

        public int? Ranged(string key, int min, int max)
        {
            var value = Int(key);
            return value < min || value > max ? throw Invalid(key, Raw(key)!, $"must be an integer from {min} to {max}") : value;
        }

        public bool? Bool(string key)
        {
            var raw = Raw(key);
            if (raw is null)
            {
                return null;
            }

            return bool.TryParse(raw, out var value) ? value : throw Invalid(key, raw, "must be true or false");
        }

        public TimeSpan? Time(string key)
        {
            var raw = Raw(key);
            if (raw is null)
            {
                return null;
            }

            return TimeSpan.TryParse(raw, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Invalid(key, raw, "must be a time span such as \"00:00:10\"");
        }

        public TimeSpan? TimeBetween(string key, TimeSpan min, TimeSpan max)
        {
            var value = Time(key);
            return value < min || value > max
                ? throw Invalid(key, Raw(key)!, $"must be from {min.ToString("c", CultureInfo.InvariantCulture)} to {max.ToString("c", CultureInfo.InvariantCulture)}")
                : value;
        }

        public QueueClientMessageEncoding? Encoding(string key)
        {
            var raw = Raw(key);
            if (raw is null)
            {
                return null;
            }

            return Enum.TryParse<QueueClientMessageEncoding>(raw, ignoreCase: true, out var value) && Enum.IsDefined(value)
                ? value
                : throw Invalid(key, raw, "must be UTF8 or Base64");
        }
    }
}
