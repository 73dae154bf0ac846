using System.Diagnostics;
using System.Globalization;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Benchmarks;

/// <summary>
/// <c>longwait</c>: one job that polls hundreds of times, as a task that runs for hours would over a real day: the
/// emulator runs wanx-v1 at <c>--time-scale</c> (2: about a minute) while the app is told the provider's clock runs
/// 1 000× faster (rate window and expected durations × 0.001), so it polls back to back. Prints the polls, the
/// executions (the job continues as new every <see cref="ImageJobOrchestrator.PollsPerExecution"/> polls) and the
/// instance's History rows at the end, beside the rows per poll of the last execution times every poll (what one
/// execution holding the whole wait would have).
/// </summary>
internal static class LongWaitBenchmark
{
    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var timeScale = args.GetDouble("time-scale", 2);
        await using var rig = await Rig.StartAsync(new RigOptions
        {
            TimeScale = timeScale,
            Knobs = RuntimeKnobs.Parse(args),
            Settings = new Dictionary<string, string?>
            {
                ["ImageJobs:RateWindowScale"] = "0.001",
                ["ImageJobs:ExpectedDurationScale"] = "0.001",
            },
        });
        var clock = Stopwatch.StartNew();
        var (jobId, _) = await rig.Intake.ValidateAndStartAsync(rig.Client,
            System.Text.Json.Nodes.JsonNode.Parse("""{"jobId":"longwait-1","model":"wanx-v1","input":{"prompt":"a lighthouse"}}"""), "longwait-1", CancellationToken.None);
        OrchestrationMetadata? done = null;
        while (done is not { IsCompleted: true } && clock.Elapsed < TimeSpan.FromMinutes(15))
        {
            await Task.Delay(500);
            done = await rig.Client.GetInstanceAsync(jobId, getInputsAndOutputs: true);
            if (clock.Elapsed.TotalSeconds % 10 < 0.5 && done?.ReadCustomStatusAs<JobProgress>() is { } progress)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,6:F1}s  {progress.Phase}  {progress.Polls} polls"));
            }
        }

        var result = DurableJson.Deserialize<JobResult>(done?.SerializedOutput);
        var history = await History.ReadAsync(rig, jobId);
        var polls = result?.Polls ?? 0;
        var lastExecutionPolls = polls - (polls - 1) / ImageJobOrchestrator.PollsPerExecution * ImageJobOrchestrator.PollsPerExecution;
        var rowsPerPoll = (double)history.Count(e => e.Type is "TaskScheduled" or "TaskCompleted" or "TimerCreated" or "TimerFired" or "OrchestratorStarted" or "OrchestratorCompleted")
            / Math.Max(1, lastExecutionPolls);
        var report = new Report("longwait");
        report.Add("status", result?.Status.ToString() ?? done?.RuntimeStatus.ToString() ?? "none");
        report.Add("polls", polls, "", "~500");
        report.Add("executions", (polls + ImageJobOrchestrator.PollsPerExecution - 1) / ImageJobOrchestrator.PollsPerExecution, "", $"one per {ImageJobOrchestrator.PollsPerExecution} polls");
        report.Add("history_rows", history.Count, "", "one execution's");
        report.Add("history_rows_one_execution_would_hold", rowsPerPoll * polls, "", "rows per poll of the last execution x polls");
        report.Add("wall_s", clock.Elapsed.TotalSeconds, "s");
        rig.Describe(report);
        report.Print();
        return result?.Status == JobStatus.Succeeded ? 0 : 1;
    }
}
