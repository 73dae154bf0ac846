using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using ImageJobs.Local.Durable;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local.Tests;

/// <summary>
/// <see cref="TaskHubSettings"/> maps host.json's <c>extensions.durableTask</c> as Durable Functions 3.x does. No
/// storage is touched: the settings are only built.
/// </summary>
public sealed class TaskHubSettingsTests
{
    private const string DevStorage = "UseDevelopmentStorage=true";

    private static readonly IConfiguration NoConfiguration = Configuration(new Dictionary<string, string?>());

    [Fact]
    public void FromHostJson_EveryFieldSet_MapsEachIntoSettings()
    {
        using var hostJson = TempHostJson.Write("""
            {
              "version": "2.0",
              "extensions": {
                "durableTask": {
                  "hubName": "EveryFieldHub",
                  "maxConcurrentActivityFunctions": 7,
                  "maxConcurrentOrchestratorFunctions": 3,
                  "maxConcurrentEntityFunctions": 9,
                  "maxEntityOperationBatchSize": 11,
                  "extendedSessionsEnabled": true,
                  "extendedSessionIdleTimeoutInSeconds": 45,
                  "entityMessageReorderWindowInMinutes": 12,
                  "useAppLease": false,
                  "appLeaseOptions": { "renewInterval": "00:00:11", "acquireInterval": "00:02:00", "leaseInterval": "00:00:42" },
                  "storageProvider": {
                    "type": "AzureStorage",
                    "connectionName": "AzureWebJobsStorage",
                    "partitionCount": 7,
                    "controlQueueBatchSize": 16,
                    "controlQueueBufferThreshold": 100,
                    "controlQueueVisibilityTimeout": "00:02:00",
                    "workItemQueueVisibilityTimeout": "00:03:00",
                    "maxQueuePollingInterval": "00:00:05",
                    "fetchLargeMessagesAutomatically": false,
                    "useLegacyPartitionManagement": false,
                    "useTablePartitionManagement": false,
                    "allowReplayingTerminalInstances": true,
                    "partitionTableOperationTimeout": "00:00:07",
                    "queueClientMessageEncoding": "Base64",
                    "useInstanceTableEtag": true,
                    "trackingStoreNamePrefix": "ImgTrack"
                  }
                }
              }
            }
            """);

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal("EveryFieldHub", settings.TaskHubName);
        Assert.Equal(7, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(3, settings.MaxConcurrentTaskOrchestrationWorkItems);
        Assert.Equal(9, settings.MaxConcurrentTaskEntityWorkItems);
        Assert.Equal(11, settings.MaxEntityOperationBatchSize);
        Assert.True(settings.ExtendedSessionsEnabled);
        Assert.Equal(TimeSpan.FromSeconds(45), settings.ExtendedSessionIdleTimeout);
        Assert.Equal(12, settings.EntityMessageReorderWindowInMinutes);
        Assert.False(settings.UseAppLease);
        Assert.Equal(TimeSpan.FromSeconds(11), settings.AppLeaseOptions.RenewInterval);
        Assert.Equal(TimeSpan.FromMinutes(2), settings.AppLeaseOptions.AcquireInterval);
        Assert.Equal(TimeSpan.FromSeconds(42), settings.AppLeaseOptions.LeaseInterval);
        Assert.Equal(7, settings.PartitionCount);
        Assert.Equal(16, settings.ControlQueueBatchSize);
        Assert.Equal(100, settings.ControlQueueBufferThreshold);
        Assert.Equal(TimeSpan.FromMinutes(2), settings.ControlQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(3), settings.WorkItemQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.MaxQueuePollingInterval);
        Assert.False(settings.FetchLargeMessageDataEnabled);
        Assert.False(settings.UseLegacyPartitionManagement);
        Assert.False(settings.UseTablePartitionManagement);
        Assert.True(settings.AllowReplayingTerminalInstances);
        Assert.Equal(TimeSpan.FromSeconds(7), settings.PartitionTableOperationTimeout);
        Assert.Equal(QueueClientMessageEncoding.Base64, settings.QueueClientMessageEncoding);
        Assert.True(settings.UseInstanceTableEtag);
        Assert.Equal("ImgTrack", settings.TrackingStoreNamePrefix);
        Assert.True(settings.ThrowExceptionOnInvalidDedupeStatus);
        Assert.True(settings.UseSeparateQueueForEntityWorkItems);
    }

    [Theory]
    [InlineData("""{ "version": "2.0" }""")]
    [InlineData("""{ "extensions": { "durableTask": { } } }""")]
    [InlineData("""{ "extensions": { "durableTask": { "storageProvider": { } } } }""")]
    public void FromHostJson_ValuesOmitted_UsesExtensionDefaults(string json)
    {
        using var hostJson = TempHostJson.Write(json);

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal("TestHubName", settings.TaskHubName);
        Assert.Equal(string.Empty, settings.AppName);
        Assert.Equal(10 * Environment.ProcessorCount, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(10 * Environment.ProcessorCount, settings.MaxConcurrentTaskOrchestrationWorkItems);
        Assert.Equal(10 * Environment.ProcessorCount, settings.MaxConcurrentTaskEntityWorkItems);
        Assert.Equal(5000, settings.MaxEntityOperationBatchSize);
        Assert.False(settings.ExtendedSessionsEnabled);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.ExtendedSessionIdleTimeout);
        Assert.Equal(30, settings.EntityMessageReorderWindowInMinutes);
        Assert.True(settings.UseAppLease);
        Assert.Equal(TimeSpan.FromSeconds(25), settings.AppLeaseOptions.RenewInterval);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.AppLeaseOptions.AcquireInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.AppLeaseOptions.LeaseInterval);
        Assert.Equal(4, settings.PartitionCount);
        Assert.Equal(32, settings.ControlQueueBatchSize);
        Assert.Equal(256, settings.ControlQueueBufferThreshold); // the framework's own default is 64
        Assert.Equal(TimeSpan.FromMinutes(5), settings.ControlQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.WorkItemQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.MaxQueuePollingInterval);
        Assert.True(settings.FetchLargeMessageDataEnabled);
        Assert.False(settings.UseLegacyPartitionManagement);
        Assert.True(settings.UseTablePartitionManagement);
        Assert.False(settings.AllowReplayingTerminalInstances);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.PartitionTableOperationTimeout);
        Assert.Equal(QueueClientMessageEncoding.UTF8, settings.QueueClientMessageEncoding);
        Assert.False(settings.UseInstanceTableEtag);
        Assert.Equal("DurableTask", settings.TrackingStoreNamePrefix);
        Assert.True(settings.UseSeparateQueueForEntityWorkItems);
    }

    [Fact]
    public void FromHostJson_AnyHostJson_ThrowsOnInvalidDedupeStatus()
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "hubName": "DedupeHub" } } }""");

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.True(settings.ThrowExceptionOnInvalidDedupeStatus);
    }

    [Fact]
    public void FromHostJson_CommentsAndTrailingCommas_ReadsTheValues()
    {
        using var hostJson = TempHostJson.Write("""
            {
              // The repo's host.json, with comments and trailing commas.
              "version": "2.0",
              "extensions": {
                "durableTask": {
                  "hubName": "ImageJobsHub", /* the app's hub */
                  "maxConcurrentActivityFunctions": 32,
                  "maxConcurrentOrchestratorFunctions": 5,
                  "storageProvider": {
                    "connectionName": "AzureWebJobsStorage",
                    "partitionCount": 4,
                    "maxQueuePollingInterval": "00:00:10",
                  },
                },
              },
            }
            """);

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal("ImageJobsHub", settings.TaskHubName);
        Assert.Equal(32, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(5, settings.MaxConcurrentTaskOrchestrationWorkItems);
        Assert.Equal(4, settings.PartitionCount);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.MaxQueuePollingInterval);
    }

    [Fact]
    public void FromHostJson_ValuesAsStringsAndKeysInOtherCase_ReadLikeFunctions()
    {
        using var hostJson = TempHostJson.Write("""
            { "Extensions": { "DurableTask": {
              "HubName": "CaseHub", "MaxConcurrentActivityFunctions": "6",
              "StorageProvider": { "PartitionCount": "2", "FetchLargeMessagesAutomatically": "false", "QueueClientMessageEncoding": "base64" } } } }
            """);

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal("CaseHub", settings.TaskHubName);
        Assert.Equal(6, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(2, settings.PartitionCount);
        Assert.False(settings.FetchLargeMessageDataEnabled);
        Assert.Equal(QueueClientMessageEncoding.Base64, settings.QueueClientMessageEncoding);
    }

    [Fact]
    public void FromHostJson_ConfigurationOverride_BeatsHostJson()
    {
        using var hostJson = TempHostJson.Write("""
            { "extensions": { "durableTask": { "hubName": "JsonHub", "maxConcurrentActivityFunctions": 32,
              "storageProvider": { "partitionCount": 4, "maxQueuePollingInterval": "00:00:10" } } } }
            """);
        var configuration = Configuration(new Dictionary<string, string?>
        {
            ["AzureFunctionsJobHost:extensions:durableTask:hubName"] = "OverrideHub",
            ["AzureFunctionsJobHost:extensions:durableTask:maxConcurrentActivityFunctions"] = "8",
            ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:partitionCount"] = "9",
            ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:03",
        });

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), configuration, DevStorage);

        Assert.Equal("OverrideHub", settings.TaskHubName);
        Assert.Equal(8, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(9, settings.PartitionCount);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.MaxQueuePollingInterval);
    }

    [Fact]
    public void FromHostJson_OverrideKeyInOtherCaseForValueHostJsonOmits_Applies()
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "hubName": "JsonHub" } } }""");
        var configuration = Configuration(new Dictionary<string, string?>
        {
            ["azurefunctionsjobhost:EXTENSIONS:durabletask:storageprovider:CONTROLQUEUEBATCHSIZE"] = "5",
            ["AZUREFUNCTIONSJOBHOST:extensions:DURABLETASK:EXTENDEDSESSIONSENABLED"] = "true",
        });

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), configuration, DevStorage);

        Assert.Equal(5, settings.ControlQueueBatchSize);
        Assert.True(settings.ExtendedSessionsEnabled);
        Assert.Equal("JsonHub", settings.TaskHubName);
    }

    [Theory]
    [InlineData("""{ "storageProvider": { "partitionCount": 0 } }""", "extensions.durableTask.storageProvider.partitionCount")]
    [InlineData("""{ "storageProvider": { "partitionCount": 17 } }""", "extensions.durableTask.storageProvider.partitionCount")]
    [InlineData("""{ "storageProvider": { "partitionCount": "four" } }""", "extensions.durableTask.storageProvider.partitionCount")]
    [InlineData("""{ "storageProvider": { "controlQueueBatchSize": 0 } }""", "extensions.durableTask.storageProvider.controlQueueBatchSize")]
    [InlineData("""{ "storageProvider": { "controlQueueBufferThreshold": 0 } }""", "extensions.durableTask.storageProvider.controlQueueBufferThreshold")]
    [InlineData("""{ "storageProvider": { "controlQueueBufferThreshold": 1001 } }""", "extensions.durableTask.storageProvider.controlQueueBufferThreshold")]
    [InlineData("""{ "storageProvider": { "controlQueueVisibilityTimeout": "00:00:59" } }""", "extensions.durableTask.storageProvider.controlQueueVisibilityTimeout")]
    [InlineData("""{ "storageProvider": { "controlQueueVisibilityTimeout": "01:00:01" } }""", "extensions.durableTask.storageProvider.controlQueueVisibilityTimeout")]
    [InlineData("""{ "storageProvider": { "maxQueuePollingInterval": "-00:00:01" } }""", "extensions.durableTask.storageProvider.maxQueuePollingInterval")]
    [InlineData("""{ "storageProvider": { "maxQueuePollingInterval": "soon" } }""", "extensions.durableTask.storageProvider.maxQueuePollingInterval")]
    [InlineData("""{ "storageProvider": { "fetchLargeMessagesAutomatically": "yes" } }""", "extensions.durableTask.storageProvider.fetchLargeMessagesAutomatically")]
    [InlineData("""{ "storageProvider": { "queueClientMessageEncoding": "UTF16" } }""", "extensions.durableTask.storageProvider.queueClientMessageEncoding")]
    [InlineData("""{ "storageProvider": { "useLegacyPartitionManagement": true, "useTablePartitionManagement": true } }""", "extensions.durableTask.storageProvider.useTablePartitionManagement")]
    [InlineData("""{ "storageProvider": { "type": "mssql" } }""", "extensions.durableTask.storageProvider.type")]
    [InlineData("""{ "storageProvider": { "trackingStoreConnectionName": "OtherStorage" } }""", "extensions.durableTask.storageProvider.trackingStoreConnectionName")]
    [InlineData("""{ "maxConcurrentActivityFunctions": 0 }""", "extensions.durableTask.maxConcurrentActivityFunctions")]
    [InlineData("""{ "maxConcurrentOrchestratorFunctions": -1 }""", "extensions.durableTask.maxConcurrentOrchestratorFunctions")]
    [InlineData("""{ "maxConcurrentEntityFunctions": 0 }""", "extensions.durableTask.maxConcurrentEntityFunctions")]
    [InlineData("""{ "maxEntityOperationBatchSize": 0 }""", "extensions.durableTask.maxEntityOperationBatchSize")]
    [InlineData("""{ "extendedSessionIdleTimeoutInSeconds": 1.5 }""", "extensions.durableTask.extendedSessionIdleTimeoutInSeconds")]
    [InlineData("""{ "hubName": "1abc" }""", "extensions.durableTask.hubName")]
    [InlineData("""{ "hubName": "ab" }""", "extensions.durableTask.hubName")]
    [InlineData("""{ "hubName": "my-hub" }""", "extensions.durableTask.hubName")]
    [InlineData("""{ "hubName": "" }""", "extensions.durableTask.hubName")]
    [InlineData("""{ "hubName": "A23456789012345678901234567890123456789012345678901" }""", "extensions.durableTask.hubName")]
    [InlineData("""{ "hubName": "%MissingSetting%" }""", "extensions.durableTask.hubName")]
    public void FromHostJson_InvalidValue_ThrowsNamingItsPath(string durableTask, string path)
    {
        using var hostJson = TempHostJson.Write($$"""{ "extensions": { "durableTask": {{durableTask}} } }""");

        var error = Assert.Throws<InvalidOperationException>(
            () => TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage));

        Assert.StartsWith(path + " ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("storageProvider:partitionCount", "0", "extensions.durableTask.storageProvider.partitionCount")]
    [InlineData("hubName", "not_valid", "extensions.durableTask.hubName")]
    [InlineData("maxConcurrentOrchestratorFunctions", "0", "extensions.durableTask.maxConcurrentOrchestratorFunctions")]
    public void FromHostJson_InvalidOverride_ThrowsNamingItsPath(string key, string value, string path)
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "hubName": "ValidHub", "storageProvider": { "partitionCount": 4 } } } }""");
        var configuration = Configuration(new Dictionary<string, string?>
        {
            ["AzureFunctionsJobHost:extensions:durableTask:" + key] = value,
        });

        var error = Assert.Throws<InvalidOperationException>(
            () => TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), configuration, DevStorage));

        Assert.StartsWith(path + " ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromHostJson_HubNameOfFiftyCharacters_IsAccepted()
    {
        const string fifty = "A2345678901234567890123456789012345678901234567890";
        using var hostJson = TempHostJson.Write($$"""{ "extensions": { "durableTask": { "hubName": "{{fifty}}" } } }""");

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal(fifty, settings.TaskHubName);
    }

    [Theory]
    [InlineData("%HubSetting%", "FromSetting")]
    [InlineData("Img%Env%Hub", "ImgDevHub")]
    public void FromHostJson_HubNameWithToken_ResolvesItFromConfiguration(string hubName, string expected)
    {
        using var hostJson = TempHostJson.Write($$"""{ "extensions": { "durableTask": { "hubName": "{{hubName}}" } } }""");
        var configuration = Configuration(new Dictionary<string, string?> { ["HubSetting"] = "FromSetting", ["Env"] = "Dev" });

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), configuration, DevStorage);

        Assert.Equal(expected, settings.TaskHubName);
    }

    [Theory]
    [InlineData("my-func-app", "myfuncapp")]
    [InlineData("1234-app", "t1234app")]
    [InlineData("a", "aHub")]
    [InlineData("---", "DefaultTaskHub")]
    [InlineData("A23456789012345678901234567890123456789012345678901234", "A23456789012345678901234567890123456789012345")]
    public void FromHostJson_NoHubNameButSiteName_UsesTheSanitizedSiteName(string siteName, string expected)
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { } } }""");
        var configuration = Configuration(new Dictionary<string, string?> { ["WEBSITE_SITE_NAME"] = siteName });

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), configuration, DevStorage);

        Assert.Equal(expected, settings.TaskHubName);
        Assert.Equal(siteName, settings.AppName);
    }

    [Theory]
    [InlineData(null, 30)]
    [InlineData("FlexConsumption", 1)]
    [InlineData("ElasticPremium", 30)]
    public void FromHostJson_MaxQueuePollingIntervalZero_UsesThePlansDefault(string? sku, int expectedSeconds)
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "storageProvider": { "maxQueuePollingInterval": "00:00:00" } } } }""");
        var configuration = Configuration(new Dictionary<string, string?> { ["WEBSITE_SKU"] = sku });

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), configuration, DevStorage);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), settings.MaxQueuePollingInterval);
    }

    [Fact]
    public void FromHostJson_LegacyPartitionManagementAlone_TurnsTablePartitionManagementOff()
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "storageProvider": { "useLegacyPartitionManagement": true } } } }""");

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.True(settings.UseLegacyPartitionManagement);
        Assert.False(settings.UseTablePartitionManagement);
    }

    [Fact]
    public void FromHostJson_NegativeExtendedSessionIdleTimeout_BecomesZero()
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "extendedSessionIdleTimeoutInSeconds": -5 } } }""");

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal(TimeSpan.Zero, settings.ExtendedSessionIdleTimeout);
    }

    [Fact]
    public void FromHostJson_EmptyTrackingStoreNamePrefix_KeepsTheFrameworkPrefix()
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "storageProvider": { "trackingStoreNamePrefix": "" } } } }""");

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage);

        Assert.Equal("DurableTask", settings.TrackingStoreNamePrefix);
    }

    [Theory]
    [InlineData(DevStorage, "devstoreaccount1")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=imagejobsacct;AccountKey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==;EndpointSuffix=core.windows.net", "imagejobsacct")]
    public void FromHostJson_ConnectionString_BuildsClientsForThatAccount(string connectionString, string account)
    {
        using var hostJson = TempHostJson.Write("""{ "extensions": { "durableTask": { "hubName": "ClientHub" } } }""");

        var settings = TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, connectionString);

        var clients = Assert.IsType<StorageAccountClientProvider>(settings.StorageAccountClientProvider);
        Assert.Equal(account, clients.Blob.CreateClient(new BlobClientOptions()).AccountName);
        Assert.Equal(account, clients.Queue.CreateClient(new QueueClientOptions()).AccountName);
        Assert.Equal(account, clients.Table.CreateClient(new TableClientOptions()).AccountName);
        Assert.Null(settings.TrackingServiceClientProvider);
    }

    [Fact]
    public void FromHostJson_MissingFile_ThrowsFileNotFound()
    {
        var path = Path.Combine(Path.GetTempPath(), "imagejobs-no-host-" + Guid.NewGuid().ToString("N") + ".json");

        var error = Assert.Throws<FileNotFoundException>(() => TaskHubSettings.FromHostJson(HostJson.Read(path), NoConfiguration, DevStorage));

        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void FromHostJson_NotAnObject_ThrowsInvalidOperation()
    {
        using var hostJson = TempHostJson.Write("[1, 2]");

        Assert.Throws<InvalidOperationException>(() => TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, DevStorage));
    }

    [Fact]
    public void FromHostJson_NullArgument_ThrowsArgumentNull()
    {
        using var hostJson = TempHostJson.Write("{}");

        Assert.Throws<ArgumentNullException>(() => TaskHubSettings.FromHostJson(null!, NoConfiguration, DevStorage));
        Assert.Throws<ArgumentNullException>(() => TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), null!, DevStorage));
        Assert.Throws<ArgumentNullException>(() => TaskHubSettings.FromHostJson(HostJson.Read(hostJson.Path), NoConfiguration, null!));
    }

    [Fact]
    public void Given_TellsAKeyGivenAsItsDefault_FromOneLeftOut_InHostJsonOrAnOverride()
    {
        using var hostJson = TempHostJson.Write("""
            { "extensions": { "durableTask": { "storageProvider": { "controlQueueBufferThreshold": 256, "partitionCount": null } } } }
            """);
        var given = TaskHubSettings.Given(HostJson.Read(hostJson.Path), Configuration(new Dictionary<string, string?>
        {
            [TaskHubSettings.OverridePrefix + ":storageProvider:controlQueueVisibilityTimeout"] = "00:05:00",
        }));

        Assert.True(given("storageProvider:controlQueueBufferThreshold")); // in host.json, at the extension's default
        Assert.True(given("storageProvider:ControlQueueVisibilityTimeout")); // an override; keys ignore case
        Assert.False(given("storageProvider:workItemQueueVisibilityTimeout"));
        Assert.False(given("storageProvider:partitionCount")); // null is left out
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    /// <summary>A host.json in its own temporary folder, deleted with the folder.</summary>
    private sealed class TempHostJson : IDisposable
    {
        private readonly string folder;

        private TempHostJson(string folder)
        {
            this.folder = folder;
            Path = System.IO.Path.Combine(folder, "host.json");
        }

        public string Path { get; }

        public static TempHostJson Write(string json)
        {
            var file = new TempHostJson(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "imagejobs-hostjson-" + Guid.NewGuid().ToString("N")));
            Directory.CreateDirectory(file.folder);
            File.WriteAllText(file.Path, json);
            return file;
        }

        public void Dispose() => Directory.Delete(folder, recursive: true);
    }
}
