using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.Local.Tests;

/// <summary>The local queue trigger follows host.json's <c>extensions.queues</c>, read through <see cref="HostJson"/>.</summary>
public sealed class QueueTriggerSettingsTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("imagejobs-queue-settings-");

    public void Dispose() => _folder.Delete(recursive: true);

    private HostJson Write(string json)
    {
        var path = Path.Combine(_folder.FullName, "host.json");
        File.WriteAllText(path, json);
        return HostJson.Read(path);
    }

    private static IConfiguration Configuration(Dictionary<string, string?>? values = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(values ?? []).Build();

    [Fact]
    public void Read_HostJsonQueues_TakesEachValue_AndAnOverrideBeatsIt()
    {
        var hostJson = Write("""
            { "extensions": { "queues": { "maxPollingInterval": "00:00:02", "visibilityTimeout": "00:00:30", "batchSize": 8, "maxDequeueCount": "3" } } }
            """);

        var settings = QueueTriggerSettings.Read(hostJson, Configuration(new() { ["AzureFunctionsJobHost:extensions:queues:batchSize"] = "4" }));

        Assert.Equal(new QueueTriggerSettings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), 4, 3), settings);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.ReceiveVisibility);
    }

    [Fact]
    public void Read_NoVisibilityTimeout_ReceivesWithTheDefaultVisibility()
    {
        var settings = QueueTriggerSettings.Read(Write("{}"), Configuration());

        Assert.Equal(TimeSpan.Zero, settings.VisibilityTimeout);
        Assert.Equal(QueueTriggerSettings.DefaultReceiveVisibility, settings.ReceiveVisibility);
    }

    [Fact]
    public async Task QueueTrigger_ReceivesMessages_WithHostJsonsVisibilityTimeout()
    {
        var settings = QueueTriggerSettings.Read(Write("""{ "extensions": { "queues": { "visibilityTimeout": "00:00:42" } } }"""), Configuration());
        var queue = new RecordingQueueClient();
        using var trigger = new QueueTrigger(new OneQueue(queue), null!, null!, null!, settings, NullLogger<QueueTrigger>.Instance);

        await trigger.StartAsync(CancellationToken.None);
        var visibility = await queue.Received.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await trigger.StopAsync(CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(42), visibility);
    }

    private sealed class OneQueue(QueueClient queue) : QueueServiceClient
    {
        public override QueueClient GetQueueClient(string queueName) => queue;
    }

    private sealed class RecordingQueueClient : QueueClient
    {
        public TaskCompletionSource<TimeSpan?> Received { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task<Response> CreateIfNotExistsAsync(IDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
            Task.FromResult<Response>(null!);

        public override Task<Response<QueueMessage[]>> ReceiveMessagesAsync(int? maxMessages, TimeSpan? visibilityTimeout, CancellationToken cancellationToken = default)
        {
            Received.TrySetResult(visibilityTimeout);
            return Task.FromResult(Response.FromValue(Array.Empty<QueueMessage>(), null!));
        }
    }
}
