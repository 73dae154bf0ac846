using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ImageJobs.Testing;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Workflow.Tests;

/// <summary>
/// <see cref="JobStateStore.DeliverOnceAsync"/> on Azurite: duplicate runs of a completion activity, which the provider
/// can schedule twice when two workers ran the same episode, deliver once; a failed or abandoned delivery is not lost.
/// </summary>
public sealed class DeliverOnceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private (JobStateStore Store, BlobContainerClient Container) Create()
    {
        var options = new ImageJobsOptions { StateContainer = "state-" + Guid.NewGuid().ToString("N")[..8] };
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        return (new JobStateStore(blobs, options), blobs.GetBlobContainerClient(options.StateContainer));
    }

    [Fact]
    public void DeliveryClaim_OutlastsTheOutboundClientsTimeout()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        }).Build();
        using var provider = new ServiceCollection().AddLogging().AddImageJobs(configuration).BuildServiceProvider();

        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(SendWebhookActivity.HttpClientName);

        Assert.Equal(SendWebhookActivity.RequestTimeout, http.Timeout);
        Assert.True(JobStateStore.DeliveryClaim > http.Timeout, $"a claim of {JobStateStore.DeliveryClaim} ends while a post may still run ({http.Timeout})");
    }

    [Fact]
    public async Task ConcurrentRuns_DeliverOnce_AndTheOthersReportDelivered()
    {
        var (store, _) = Create();
        var deliveries = 0;

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.DeliverOnceAsync("job-1", "queue", async ct =>
        {
            Interlocked.Increment(ref deliveries);
            await Task.Delay(300, ct); // the send, long enough for every other run to find the claim
        }, CancellationToken.None)));

        Assert.Equal(1, deliveries);
        Assert.Single(runs, delivered => delivered);
        Assert.False(await store.DeliverOnceAsync("job-1", "queue", _ => throw new InvalidOperationException("delivered twice"), CancellationToken.None));
    }

    [Fact]
    public async Task FailedDelivery_ReleasesTheClaim_SoTheRetryDelivers()
    {
        var (store, _) = Create();

        await Assert.ThrowsAsync<HttpRequestException>(() => store.DeliverOnceAsync("job-1", "webhook", _ => throw new HttpRequestException("503"), CancellationToken.None));
        var deliveries = 0;
        var retried = await store.DeliverOnceAsync("job-1", "webhook", _ => { deliveries++; return Task.CompletedTask; }, CancellationToken.None);

        Assert.True(retried);
        Assert.Equal(1, deliveries);
    }

    [Fact]
    public async Task ClaimOfADeadRun_Expired_IsTakenOverAndDelivered()
    {
        var (store, container) = Create();
        await container.CreateIfNotExistsAsync();
        await container.GetBlobClient("jobs/job-1/delivered/queue").UploadAsync(BinaryData.Empty, new BlobUploadOptions
        {
            Metadata = new Dictionary<string, string> { ["state"] = "claimed", ["until"] = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O") },
        });
        var deliveries = 0;

        var delivered = await store.DeliverOnceAsync("job-1", "queue", _ => { deliveries++; return Task.CompletedTask; }, CancellationToken.None);

        Assert.True(delivered);
        Assert.Equal(1, deliveries);
        var marker = (await container.GetBlobClient("jobs/job-1/delivered/queue").GetPropertiesAsync()).Value;
        Assert.Equal("delivered", marker.Metadata["state"]);
    }

    [Fact]
    public async Task MarkerWithoutClaim_CountsAsDelivered()
    {
        var (store, container) = Create();
        await container.CreateIfNotExistsAsync();
        await container.GetBlobClient("jobs/job-1/delivered/webhook").UploadAsync(BinaryData.Empty);

        var delivered = await store.DeliverOnceAsync("job-1", "webhook", _ => throw new InvalidOperationException("delivered twice"), CancellationToken.None);

        Assert.False(delivered);
    }
}
