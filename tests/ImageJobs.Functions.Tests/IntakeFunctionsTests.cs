using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Grpc.Net.Client;
using ImageJobs.Functions.Triggers;
using ImageJobs.Testing;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.Functions.Tests;

/// <summary>
/// The queue trigger of the Functions app on real storage (Azurite): a message that is invalid by itself goes to
/// <c>image-jobs-poison</c> with the reason on its first read and is completed, as in the local host.
/// </summary>
public sealed class IntakeFunctionsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task StartJobFromQueue_InvalidJob_IsPoisonedWithTheReasonOnItsFirstReadAndCompleted()
    {
        using var host = AppHost.Build((StorageClients.ConnectionName, azurite.ConnectionString));
        var functions = ActivatorUtilities.CreateInstance<IntakeFunctions>(host.Services);
        var messageId = "m-" + Guid.NewGuid().ToString("N");
        var message = QueuesModelFactory.QueueMessage(messageId, "pop", """{"model":"qwen-image","input":{"prompt":""}}""", dequeueCount: 1);

        // Returning (not throwing) is what completes the message; the client would fail if anything were started.
        await functions.StartJobFromQueue(message, UnreachableClient(), CancellationToken.None);

        var poison = new QueueServiceClient(azurite.ConnectionString).GetQueueClient(ImageJobsOptions.PoisonQueue);
        var records = (await poison.ReceiveMessagesAsync(32)).Value
            .Select(m => JsonNode.Parse(m.Body.ToString()) as JsonObject ?? throw new Xunit.Sdk.XunitException("Not a JSON object: " + m.Body))
            .Where(r => (string?)r["messageId"] == messageId)
            .ToList();
        var record = Assert.Single(records);
        Assert.Equal(1, record["dequeueCount"]!.GetValue<long>());
        Assert.False(string.IsNullOrEmpty((string?)record["reason"]));
        Assert.Contains(record["errors"]!.AsArray(), e => (string?)e!["field"] == "input.prompt");
    }

    private static GrpcDurableTaskClient UnreachableClient() =>
        new("unreachable", new GrpcDurableTaskClientOptions { Channel = GrpcChannel.ForAddress("http://127.0.0.1:9") }, NullLogger.Instance);
}
