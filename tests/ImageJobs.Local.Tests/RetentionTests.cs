using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Local.Tests;

/// <summary><c>ImageJobs:Retention:JobHistory</c>: ended jobs' durable state goes, running jobs and result images stay.</summary>
public sealed class RetentionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Waits = "TestRetentionWaits";

    [Fact]
    public async Task Purge_EndedJobOlderThanRetention_GoesWhileItsImagesAndRunningJobsStay()
    {
        await using var app = await TestApp.StartAsync(azurite,
            settings: new Dictionary<string, string?> { ["ImageJobs:Retention:JobHistory"] = "00:00:06" },
            configureTasks: tasks => tasks.AddOrchestratorFunc<string, string>(Waits, (context, _) => context.WaitForExternalEvent<string>("go")));
        var retention = app.App.Services.GetRequiredService<JobHistoryRetention>();
        Assert.Equal(TimeSpan.FromSeconds(6), app.App.Services.GetRequiredService<ImageJobsOptions>().Retention.JobHistory);

        var id = await app.StartJobAsync(new JsonObject
        {
            ["jobId"] = $"retained-{Guid.NewGuid():N}",
            ["model"] = "qwen-image",
            ["input"] = new JsonObject { ["prompt"] = "a kept image" },
        });
        var result = await app.WaitForJobAsync(id);
        var running = await app.Client.ScheduleNewOrchestrationInstanceAsync(Waits, "x");
        await app.Client.WaitForInstanceStartAsync(running, new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);

        var created = (await app.Client.GetInstanceAsync(id))!.CreatedAt;
        Assert.True(DateTimeOffset.UtcNow - created < TimeSpan.FromSeconds(5), $"the job took too long for this test ({created:O})");
        Assert.Equal(0, await PurgedAsync(retention, app, id)); // younger than the retention: kept
        await Task.Delay(created + TimeSpan.FromSeconds(6.5) - DateTimeOffset.UtcNow);
        Assert.Equal(1, await PurgedAsync(retention, app, id));

        Assert.Null(await app.Client.GetInstanceAsync(id));
        Assert.NotNull(await app.Client.GetInstanceAsync(running));
        foreach (var image in result.Images)
        {
            Assert.True(await app.Blobs.GetBlobContainerClient(image.Container).GetBlobClient(image.BlobName).ExistsAsync());
        }

        Assert.True(await app.Blobs.GetBlobContainerClient(result.Images[0].Container).GetBlobClient(result.Manifest).ExistsAsync());
    }

    [Fact]
    public async Task Purge_RetentionZero_PurgesNothing()
    {
        await using var app = await TestApp.StartAsync(azurite,
            settings: new Dictionary<string, string?> { ["ImageJobs:Retention:JobHistory"] = "00:00:00" });
        var id = await app.StartJobAsync(new JsonObject
        {
            ["jobId"] = $"kept-{Guid.NewGuid():N}",
            ["model"] = "qwen-image",
            ["input"] = new JsonObject { ["prompt"] = "a kept image" },
        });
        await app.WaitForJobAsync(id);

        Assert.Equal(0, await app.App.Services.GetRequiredService<JobHistoryRetention>().PurgeAsync(app.Client));
        Assert.NotNull(await app.Client.GetInstanceAsync(id));
    }

    // Purges, and counts only what this test made (the hub is the test's own, but be exact).
    private static async Task<int> PurgedAsync(JobHistoryRetention retention, TestApp app, string id)
    {
        var before = await app.Client.GetInstanceAsync(id) is not null;
        await retention.PurgeAsync(app.Client);
        return before && await app.Client.GetInstanceAsync(id) is null ? 1 : 0;
    }
}
