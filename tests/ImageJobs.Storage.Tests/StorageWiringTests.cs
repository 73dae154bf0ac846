using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using ImageJobs.Testing;

namespace ImageJobs.Storage.Tests;

public sealed class StorageWiringTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Blob_UploadDownloadList_RoundTripsSixMegabytes()
    {
        var container = new BlobContainerClient(azurite.ConnectionString, "wiring-" + Guid.NewGuid().ToString("N")[..8]);
        await container.CreateAsync();
        var payload = new byte[6 * 1024 * 1024];
        new Random(42).NextBytes(payload);

        var blob = container.GetBlobClient("big/payload.bin");
        await blob.UploadAsync(new BinaryData(payload), overwrite: true);

        var downloaded = await blob.DownloadContentAsync();
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(downloaded.Value.Content.ToArray()));

        var listed = new List<BlobItem>();
        await foreach (var item in container.GetBlobsAsync(prefix: "big/"))
        {
            listed.Add(item);
        }

        var only = Assert.Single(listed);
        Assert.Equal("big/payload.bin", only.Name);
        Assert.Equal(payload.Length, only.Properties.ContentLength);
    }

    [Fact]
    public async Task Queue_SendReceiveDelete_LeavesQueueEmpty()
    {
        var queue = new QueueClient(azurite.ConnectionString, "wiring-" + Guid.NewGuid().ToString("N")[..8]);
        await queue.CreateAsync();

        await queue.SendMessageAsync("{\"hello\":\"queue\"}");
        var received = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(received.Value);
        Assert.Equal("{\"hello\":\"queue\"}", received.Value.Body.ToString());

        await queue.DeleteMessageAsync(received.Value.MessageId, received.Value.PopReceipt);
        var properties = await queue.GetPropertiesAsync();
        Assert.Equal(0, properties.Value.ApproximateMessagesCount);
    }
}
