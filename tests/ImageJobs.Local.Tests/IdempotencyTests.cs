using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Workflow.Pipeline;

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
}
