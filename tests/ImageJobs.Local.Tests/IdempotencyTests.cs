using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Local.Tests;

/// <summary>The same job twice, from any trigger, is one submission at the provider.</summary>
public sealed class IdempotencyTests(IdempotencyTests.Fixture fixture) : IClassFixture<IdempotencyTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        protected override bool Triggers => true;
    }

    private static JsonObject Job(string jobId) => new()
    {
        ["jobId"] = jobId,
        ["model"] = "qwen-image-plus",
        ["input"] = new JsonObject { ["prompt"] = "one and only" },
    };

    [Fact]
    public async Task SameJobIdTwiceOverHttp_OneSubmission()
    {
        var app = fixture.App;
        var before = app.Emulator.Stats.Snapshot().Accepted;
        var jobId = $"idem-{Guid.NewGuid():N}";

        var first = await Task.WhenAll(app.PostJobAsync(Job(jobId)), app.PostJobAsync(Job(jobId)));
        Assert.All(first, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(jobId)).Status);
        Assert.Equal(jobId, await app.StartJobAsync(Job(jobId)));
        await Task.Delay(500);

        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(jobId)).Status);
        Assert.Equal(1, app.Emulator.Stats.Snapshot().Accepted - before);
    }

    [Fact]
    public async Task StartAsync_ExistingJobInEveryState_TheTaskHubRefusesItAndTheIntakeSaysSo()
    {
        var app = fixture.App;
        var intake = app.App.Services.GetRequiredService<JobIntake>();
        var jobId = $"idem-dedupe-{Guid.NewGuid():N}";
        var (job, errors) = await intake.ValidateAsync(Job(jobId), jobId, CancellationToken.None);
        Assert.Empty(errors);

        Assert.Equal((jobId, true), await JobIntake.StartAsync(app.Client, job!, CancellationToken.None));
        Assert.Equal((jobId, false), await JobIntake.StartAsync(app.Client, job!, CancellationToken.None)); // pending or running
        var done = await app.WaitForJobAsync(jobId);
        Assert.Equal((jobId, false), await JobIntake.StartAsync(app.Client, job!, CancellationToken.None)); // completed
        await Task.Delay(500);

        var instance = await app.Client.GetInstanceAsync(jobId, getInputsAndOutputs: true);
        Assert.Equal(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed, instance!.RuntimeStatus);
        Assert.Equal(done.CompletedAt, ImageJobs.Workflow.Durable.DurableJson.Deserialize<JobResult>(instance.SerializedOutput)!.CompletedAt); // not run again
    }

    [Fact]
    public async Task DuplicateQueueMessages_OneSubmission()
    {
        var app = fixture.App;
        var before = app.Emulator.Stats.Snapshot().Accepted;
        var jobId = $"idem-q-{Guid.NewGuid():N}";
        var queue = app.Queues.GetQueueClient(ImageJobsOptions.JobsQueue);
        await queue.CreateIfNotExistsAsync();
        var message = Convert.ToBase64String(Encoding.UTF8.GetBytes(Job(jobId).ToJsonString()));
        await queue.SendMessageAsync(message);
        await queue.SendMessageAsync(message);
        await queue.SendMessageAsync(Job(jobId).ToJsonString()); // plain JSON too

        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(jobId)).Status);
        await Eventually.GetAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0 ? "" : null, "the queue to be drained");
        await fixture.Completions.WaitForAsync(jobId);
        await Task.Delay(500);
        await fixture.Completions.DrainAsync();

        Assert.Equal(1, app.Emulator.Stats.Snapshot().Accepted - before);
        Assert.Single(fixture.Completions.For(jobId));
        var poison = app.Queues.GetQueueClient(ImageJobsOptions.PoisonQueue);
        Assert.False((await poison.ExistsAsync()).Value && (await poison.PeekMessagesAsync(32)).Value.Length > 0, "A duplicate ended in the poison queue.");
    }

    [Fact]
    public async Task SameUploadSeenByEveryScan_OneJobOneSubmission_ReuploadIsANewJob()
    {
        var app = fixture.App;
        var before = app.Emulator.Stats.Snapshot().Accepted;
        var uploads = app.Blobs.GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
        await uploads.CreateIfNotExistsAsync();
        var name = $"stylization_all/idem-{Guid.NewGuid():N}.png";
        var blob = uploads.GetBlobClient(name);
        var prompt = new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = "ink" } };
        await blob.UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)), prompt);
        var reference = $"blob:{ImageJobsOptions.UploadsContainer}/{name}";

        async Task<List<Microsoft.DurableTask.Client.OrchestrationMetadata>> JobsForBlobAsync() =>
            [.. (await app.QueryAsync("upload-")).Where(i => i.SerializedInput?.Contains(reference, StringComparison.Ordinal) == true)];

        var first = (await Eventually.GetAsync(async () => (await JobsForBlobAsync()) is { Count: > 0 } found ? found : null, "the upload's job")).Single();
        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(first.InstanceId)).Status);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // two more scans see the same blob
        Assert.Single(await JobsForBlobAsync());
        Assert.Equal(1, app.Emulator.Stats.Snapshot().Accepted - before);

        // A new version of the blob (new ETag) is new work.
        await blob.UploadAsync(BinaryData.FromBytes(TestImages.Png(512, 640)), prompt);
        var both = await Eventually.GetAsync(async () => (await JobsForBlobAsync()) is { Count: 2 } found ? found : null, "a job for the re-uploaded blob");
        var second = both.Single(i => i.InstanceId != first.InstanceId);
        var result = await app.WaitForJobAsync(second.InstanceId);
        Assert.Equal((512, 640), (result.Images[0].Width, result.Images[0].Height));
        Assert.Equal(2, app.Emulator.Stats.Snapshot().Accepted - before);
    }

    [Fact]
    public async Task QueueBurst_EveryMessageIsOneJobAndOneSubmission()
    {
        var app = fixture.App;
        var before = app.Emulator.Stats.Snapshot().Accepted;
        var queue = app.Queues.GetQueueClient(ImageJobsOptions.JobsQueue);
        await queue.CreateIfNotExistsAsync();
        string[] models = ["qwen-image", "qwen-image-plus", "wanx-v1"];
        var ids = Enumerable.Range(0, 30).Select(i => $"burst-{i:D2}-{Guid.NewGuid():N}").ToList();
        await Task.WhenAll(ids.Select((id, i) =>
        {
            var job = Job(id);
            job["model"] = models[i % models.Length];
            return queue.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(job.ToJsonString())));
        }));

        foreach (var id in ids)
        {
            await Eventually.GetAsync(() => app.Client.GetInstanceAsync(id), $"the queue trigger to start '{id}'");
            Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(id)).Status);
        }

        Assert.Equal(ids.Count, app.Emulator.Stats.Snapshot().Accepted - before);
        foreach (var id in ids)
        {
            await fixture.Completions.WaitForAsync(id);
        }
    }
}
