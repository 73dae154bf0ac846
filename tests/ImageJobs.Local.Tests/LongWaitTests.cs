using System.Text.Json.Nodes;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using Xunit.Abstractions;

namespace ImageJobs.Local.Tests;

/// <summary>
/// A job whose task outlasts many polls continues as new every <see cref="ImageJobOrchestrator.PollsPerExecution"/>
/// polls, so its history stays one execution long, and it still ends like any job: paid once, images stored.
/// </summary>
public sealed class LongWaitTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Job_PollingPastPollsPerExecution_ContinuesAsNewWithItsStateAndKeepsItsHistoryBounded()
    {
        // wanx-v1 runs 26-31 s of service time: about 8 s here. The schedule is told the provider's clock runs 1 000×
        // faster (rate window 1 ms), so it polls back to back, as a job polling for hours would over a real day.
        await using var app = await TestApp.StartAsync(azurite,
            new DashScopeEmulatorOptions { TimeScale = 0.3 },
            new Dictionary<string, string?>
            {
                ["ImageJobs:RateWindowScale"] = "0.001",
                ["ImageJobs:ExpectedDurationScale"] = "0.001",
            });
        var before = app.Emulator.Stats.Snapshot().Accepted;

        var id = await app.StartJobAsync(new JsonObject
        {
            ["jobId"] = $"long-{Guid.NewGuid():N}",
            ["model"] = "wanx-v1",
            ["input"] = new JsonObject { ["prompt"] = "a lighthouse" },
        });
        var result = await app.WaitForJobAsync(id, TimeSpan.FromMinutes(3));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.NotEmpty(result.Images);
        Assert.All(result.Images, image => Assert.Null(image.Error));
        Assert.Equal(1, app.Emulator.Stats.Snapshot().Accepted - before);
        Assert.True(result.Polls > ImageJobOrchestrator.PollsPerExecution, $"only {result.Polls} polls: the test did not reach a second execution");
        // The job's start time is its first execution's, not the last one's.
        Assert.True(result.CompletedAt - result.StartedAt > TimeSpan.FromSeconds(5), $"{result.StartedAt:O} to {result.CompletedAt:O}");

        // One execution's history: at most PollsPerExecution polls of about eight rows each, where the whole wait
        // would have left about eight rows for every poll made.
        var rows = await app.HistoryRowsAsync(id);
        output.WriteLine($"{result.Polls} polls, {rows} history rows");
        Assert.True(rows <= (ImageJobOrchestrator.PollsPerExecution + 1) * 8 + 40, $"{rows} history rows after {result.Polls} polls");
        Assert.True(rows < result.Polls * 8, $"{rows} history rows after {result.Polls} polls");

        var status = await app.GetStatusAsync(id);
        Assert.False(status["input"]!.AsObject().ContainsKey("waiting"), status.ToJsonString());
        Assert.Equal("a lighthouse", status["input"]!["input"]!["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Job_CanceledAfterItContinuedAsNew_EndsCanceled()
    {
        await using var app = await TestApp.StartAsync(azurite,
            new DashScopeEmulatorOptions { TimeScale = 0.99 }, // a task of about 30 s: cancelled long before it ends
            new Dictionary<string, string?>
            {
                ["ImageJobs:RateWindowScale"] = "0.001",
                ["ImageJobs:ExpectedDurationScale"] = "0.001",
            });
        var id = await app.StartJobAsync(new JsonObject
        {
            ["jobId"] = $"long-cancel-{Guid.NewGuid():N}",
            ["timeout"] = "00:05:00",
            ["model"] = "wanx-v1",
            ["input"] = new JsonObject { ["prompt"] = "a lighthouse" },
        });
        await Eventually.GetAsync(async () =>
            (await app.Client.GetInstanceAsync(id, getInputsAndOutputs: true))?.ReadCustomStatusAs<JobProgress>() is { Polls: > ImageJobOrchestrator.PollsPerExecution + 5 } progress ? progress : null,
            "a poll count past one execution", TimeSpan.FromMinutes(1));

        using (var cancel = await app.Http.PostAsync($"api/jobs/{id}/cancel", null))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var result = await app.WaitForJobAsync(id, TimeSpan.FromMinutes(1));
        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.True(result.Polls > ImageJobOrchestrator.PollsPerExecution);
    }
}
