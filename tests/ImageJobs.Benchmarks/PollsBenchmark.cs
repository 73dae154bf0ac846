using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Provider;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Benchmarks;

/// <summary>
/// <c>polls</c>: jobs end to end through the real runtime (<see cref="Rig"/>) against the emulator at a time scale, per
/// model family. Polls per job are the emulator's own count (<c>queries_by_task</c>); detection lag is the task's
/// <c>end_time</c> at the provider → the job's <c>DetectedAt</c>. Each model runs as many jobs at once as the provider
/// runs tasks of it (so tasks never queue PENDING and the lag is the running-task schedule's).
/// <para>Frame: with <c>--rate-windows real</c> (default) the app's poll schedule keeps MinLag = 1.5 s of wall time while
/// task windows shrink with the time scale, so the run is a service whose tasks are that much shorter, and lag, task
/// time and the target max(1.5 s, 10 % of task time) are all wall time. With <c>--rate-windows scaled</c> the schedule
/// scales MinLag and the query budget too, so everything is service time (wall ÷ time scale). At time scale 1 both are
/// the same. The SDKs' <c>wait()</c> (and the app's schedule on ideal timers) are simulated on the same task durations,
/// in the same frame.</para>
/// </summary>
internal static class PollsBenchmark
{
    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var perModel = args.GetInt("jobs", 20);
        var timeScale = args.GetDouble("time-scale", 0.05);
        var rateWindows = args.Get("rate-windows", "real");
        if (rateWindows is not ("scaled" or "real"))
        {
            Console.Error.WriteLine("--rate-windows must be 'scaled' or 'real'.");
            return 2;
        }

        var frame = rateWindows == "scaled" ? "service" : "wall";
        var toFrame = frame == "service" ? 1 / timeScale : 1; // wall seconds → frame seconds
        await using var rig = await Rig.StartAsync(new RigOptions
        {
            TimeScale = timeScale, Limits = true, ScaleRateWindows = rateWindows == "scaled", Knobs = RuntimeKnobs.Parse(args),
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time scale {timeScale}, rate windows {rateWindows}: lag and task time in {frame} seconds"));

        var clock = Stopwatch.StartNew();
        var results = new ConcurrentBag<(string Model, JobResult Result)>();
        var failures = new ConcurrentBag<string>();
        await Task.WhenAll(ModelJobs.Bodies.Select(async m =>
        {
            var lanes = DashScopeModels.GetProfile(m.Model).MaxConcurrentTasks;
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, lanes).Select(async _ =>
            {
                for (var i = Interlocked.Increment(ref next); i < perModel; i = Interlocked.Increment(ref next))
                {
                    var id = $"polls-{m.Model}-{i}".Replace(".", "_", StringComparison.Ordinal);
                    var node = JsonNode.Parse(m.Body)!.AsObject();
                    node["jobId"] = id;
                    await rig.Intake.ValidateAndStartAsync(rig.Client, node, id, CancellationToken.None);
                    using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                    OrchestrationMetadata instance;
                    try
                    {
                        instance = await rig.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, deadline.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        failures.Add($"{id}: not done after 5 minutes");
                        continue;
                    }

                    var result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? DurableJson.Deserialize<JobResult>(instance.SerializedOutput) : null;
                    if (result is null || result.Status != JobStatus.Succeeded || result.TaskId is null || result.DetectedAt is null)
                    {
                        failures.Add($"{id}: {instance.RuntimeStatus} {result?.Status} {result?.Error?.Code} {instance.FailureDetails?.ErrorMessage}");
                        continue;
                    }

                    results.Add((m.Model, result));
                }
            }));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,6:F1}s  {m.Model} done"));
        }));

        var stats = rig.Emulator.Stats.Snapshot();
        var tasks = await rig.ListProviderTasksAsync();
        var report = new Report("polls");
        RuntimeKnobs.Describe(rig.Settings, report);
        report.Add("time_scale", timeScale);
        report.Add("frame", frame, "", "unit of lag and task time");
        Console.WriteLine();
        Console.WriteLine($"{"model",-22} {"who",-12} {"jobs",5} {"polls p50",9} {"polls p95",9} {"lag p50",8} {"lag p95",8} {"target",7} {"in target",9}");
        var all = new Dictionary<string, List<Run>>();
        foreach (var (model, _) in ModelJobs.Bodies)
        {
            var jobs = results.Where(r => r.Model == model && tasks.ContainsKey(r.Result.TaskId!)).Select(r =>
            {
                var task = tasks[r.Result.TaskId!];
                var running = (task.End - task.Start).TotalSeconds * toFrame;
                var lag = (r.Result.DetectedAt!.Value - task.End.UtcDateTime).TotalSeconds * toFrame;
                return new Run(stats.QueriesByTask.GetValueOrDefault(r.Result.TaskId!), lag, running);
            }).ToList();
            if (jobs.Count == 0)
            {
                continue;
            }

            // The same durations under the SDKs' wait() and under the app's schedule with perfect timers.
            var profile = DashScopeModels.GetProfile(model);
            var windowScale = frame == "wall" ? timeScale : 1;
            var documented = new DurationWindow(profile.TypicalLatencyMin * windowScale, profile.TypicalLatencyMax * windowScale);
            var learned = DurationWindow.Learn([.. jobs.Select(j => TimeSpan.FromSeconds(j.TaskSeconds))], documented);
            var sims = new (string Name, Func<double, (int, double)> Simulate)[]
            {
                ("sdk wait()", d => PollsSimulation.Simulate(d, PollsSimulation.SdkNext)),
                ("app, ideal", d => PollsSimulation.Simulate(d, (t, _) => PollSchedule.NextDelay(true, TimeSpan.FromSeconds(t), learned, 1).TotalSeconds, firstAt: null)),
            };
            Add(all, "runtime", jobs);
            Print(report, model, "runtime", jobs);
            foreach (var (name, simulate) in sims)
            {
                var simulated = jobs.Select(j =>
                {
                    var (polls, lag) = simulate(j.TaskSeconds);
                    return new Run(polls, lag, j.TaskSeconds);
                }).ToList();
                Add(all, name, simulated);
                Print(report, model, name, simulated);
            }
        }

        foreach (var (name, runs) in all)
        {
            Print(report, "all", name, runs);
        }

        // Where the runtime's lag goes, from each job's history: the poll time the schedule chose (the query's NotBefore)
        // after the task's end; the timer delivered (the episode that scheduled the poll) after it (negative: early, and
        // the query activity waits the rest); and the poll itself (GetTask scheduled → its result back in the next
        // episode, = DetectedAt; the activity's wait included).
        Console.WriteLine();
        Console.WriteLine($"{"model",-22} {"schedule p50/p95",17} {"timer p50/p95",15} {"poll hop p50/p95",17} {"timers/job p50/max",19} {"early/job p50",13}   ({frame} s)");
        var parts = new List<(string Model, double Schedule, double Timer, double Hop, int Timers, int Early)>();
        foreach (var (model, result) in results)
        {
            if (!tasks.TryGetValue(result.TaskId!, out var task)
                || History.DetectingPoll(await History.ReadAsync(rig, result.JobId), result.DetectedAt!.Value) is not { } d)
            {
                continue;
            }

            parts.Add((model, (d.PlannedAt - task.End.UtcDateTime).TotalSeconds * toFrame, (d.PollEpisodeAt - d.PlannedAt).TotalSeconds * toFrame,
                (result.DetectedAt!.Value - d.PollEpisodeAt).TotalSeconds * toFrame, d.Timers, d.EarlyFirings));
        }

        foreach (var group in parts.GroupBy(p => p.Model).Append(parts.GroupBy(_ => "all").Single()))
        {
            static List<double> Sorted(IEnumerable<double> values) => values.Order().ToList();
            var schedule = Sorted(group.Select(p => p.Schedule));
            var timer = Sorted(group.Select(p => p.Timer));
            var hop = Sorted(group.Select(p => p.Hop));
            var timers = Sorted(group.Select(p => (double)p.Timers));
            var early = Sorted(group.Select(p => (double)p.Early));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{group.Key,-22} {Report.Percentile(schedule, 50),8:0.00}/{Report.Percentile(schedule, 95),-8:0.00} {Report.Percentile(timer, 50),7:0.00}/{Report.Percentile(timer, 95),-7:0.00} {Report.Percentile(hop, 50),8:0.00}/{Report.Percentile(hop, 95),-8:0.00} {Report.Percentile(timers, 50),9:0}/{timers[^1],-9:0} {Report.Percentile(early, 50),13:0}"));
            report.Add($"{group.Key}.lag_parts.schedule_p50_s", Report.Percentile(schedule, 50), "s", "planned poll (NotBefore) − task end");
            report.Add($"{group.Key}.lag_parts.timer_p50_s", Report.Percentile(timer, 50), "s", "poll episode − planned (negative: early, the activity waits the rest)");
            report.Add($"{group.Key}.lag_parts.timer_p95_s", Report.Percentile(timer, 95), "s");
            report.Add($"{group.Key}.lag_parts.poll_hop_p50_s", Report.Percentile(hop, 50), "s", "GetTask scheduled → DetectedAt (the activity's wait for NotBefore included)");
            report.Add($"{group.Key}.lag_parts.poll_hop_p95_s", Report.Percentile(hop, 95), "s");
            report.Add($"{group.Key}.timers_per_job_p50", Report.Percentile(timers, 50), "", "re-waits after early firings included");
            report.Add($"{group.Key}.early_firings_per_job_p50", Report.Percentile(early, 50));
        }

        report.Add("polls_vs_result_polls_mismatches", results.Count(r => stats.QueriesByTask.GetValueOrDefault(r.Result.TaskId!) != r.Result.Polls), "",
            "emulator count ≠ JobResult.Polls (retried queries)");
        report.Add("failed_jobs", failures.Count, "", "0");
        report.Add("target", $"median polls <= 2; lag p95 <= max(1.5 s, 10 % of task time), {frame} time");
        foreach (var failure in failures)
        {
            Console.Error.WriteLine(failure);
        }

        rig.Describe(report);
        report.Print();
        return failures.IsEmpty ? 0 : 1;
    }

    private readonly record struct Run(int Polls, double Lag, double TaskSeconds)
    {
        public double Target => Math.Max(1.5, 0.1 * TaskSeconds);

        public bool WithinTarget => Lag <= Target + 1e-9;
    }

    private static void Add(Dictionary<string, List<Run>> all, string name, List<Run> runs)
    {
        if (!all.TryGetValue(name, out var list))
        {
            all[name] = list = [];
        }

        list.AddRange(runs);
    }

    private static void Print(Report report, string model, string who, List<Run> runs)
    {
        var polls = runs.Select(r => (double)r.Polls).Order().ToList();
        var lags = runs.Select(r => r.Lag).Order().ToList();
        var within = runs.Count(r => r.WithinTarget) * 100.0 / runs.Count;
        var target = Math.Max(1.5, 0.1 * Report.Percentile(runs.Select(r => r.TaskSeconds).Order().ToList(), 50));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model,-22} {who,-12} {runs.Count,5} {Report.Percentile(polls, 50),9:0} {Report.Percentile(polls, 95),9:0} {Report.Percentile(lags, 50),8:0.00} {Report.Percentile(lags, 95),8:0.00} {target,7:0.00} {within,8:0.0}%"));
        var prefix = $"{model}.{who.Replace(" ", "_", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal).Replace("()", "", StringComparison.Ordinal)}";
        report.Add($"{prefix}.polls_p50", Report.Percentile(polls, 50));
        report.Add($"{prefix}.polls_p95", Report.Percentile(polls, 95));
        report.Add($"{prefix}.lag_p50_s", Report.Percentile(lags, 50), "s");
        report.Add($"{prefix}.lag_p95_s", Report.Percentile(lags, 95), "s", string.Create(CultureInfo.InvariantCulture, $"<= {target:0.##} (max(1.5, 10 % of median task time))"));
        report.Add($"{prefix}.lag_within_target_pct", within, "%");
        if (who == "runtime")
        {
            report.Add($"{prefix}.task_time_p50_s", Report.Percentile(runs.Select(r => r.TaskSeconds).Order().ToList(), 50), "s");
        }
    }
}
