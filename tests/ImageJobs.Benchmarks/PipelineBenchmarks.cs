using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Benchmarks;

/// <summary>
/// The whole pipeline on loopback (<see cref="Rig"/>: Azurite, the emulator, the Durable Task runtime, a webhook receiver).
/// <list type="bullet">
/// <item><c>overhead</c>: from the poll that sees SUCCEEDED to 4 images of 1024² in blob and every completion event
/// sent (webhook received, queue written, orchestration completed); median and p95. Beside it the runtime's floor: an
/// orchestration of the same shape whose activities do nothing, on the same hub.</item>
/// <item><c>throughput</c>: 200 jobs (50 per model family) against the emulator at time scale 0.01 with the real
/// per-model limits; makespan vs the ideal, provider utilization, throttled requests, failures.</item>
/// </list>
/// </summary>
internal static class PipelineBenchmarks
{
    internal const string FloorOrchestration = "BenchFloorOrchestration";
    private const string FloorActivity = "BenchNoopActivity";

    /// <summary>
    /// The finishing part of ImageJobOrchestrator with no-op activities: 4 in parallel (the downloads), then 1 (the
    /// manifest), then 2 in parallel (completion queue and webhook). Returns the episode start times (the orchestration's
    /// CurrentUtcDateTime) at the start and after each stage; the first one is what DetectedAt is in a job.
    /// </summary>
    internal static void AddFloor(DurableTaskRegistry tasks)
    {
        tasks.AddActivityFunc<int, int>(FloorActivity, (_, x) => x);
        tasks.AddOrchestratorFunc<int, DateTime[]>(FloorOrchestration, async (context, _) =>
        {
            var first = context.CurrentUtcDateTime;
            await Task.WhenAll(Enumerable.Range(0, 4).Select(i => context.CallActivityAsync<int>(FloorActivity, i)));
            var fannedIn = context.CurrentUtcDateTime;
            await context.CallActivityAsync<int>(FloorActivity, 4);
            var manifest = context.CurrentUtcDateTime;
            await Task.WhenAll(context.CallActivityAsync<int>(FloorActivity, 5), context.CallActivityAsync<int>(FloorActivity, 6));
            return [first, fannedIn, manifest, context.CurrentUtcDateTime];
        });
    }

    public static async Task<int> OverheadAsync(BenchmarkArgs args)
    {
        var jobs = args.GetInt("jobs", 30);
        var knobs = RuntimeKnobs.Parse(args);
        await using var rig = await Rig.StartAsync(new RigOptions { TimeScale = 0.01, Limits = true, Knobs = knobs, ConfigureTasks = AddFloor });
        var client = rig.Client;
        var overheads = new List<double>();
        var toImages = new List<double>();
        var imagesToHook = new List<double>();
        var floors = new List<double>();
        var floorsFromStart = new List<double>();
        var floorFanOut = new List<double>();
        JobResult? last = null;
        var jobBreakdowns = new List<History.Breakdown>();
        var floorBreakdowns = new List<History.Breakdown>();
        for (var i = 0; i < jobs + 2; i++)
        {
            // The job: SUCCEEDED seen (DetectedAt) → 4 downloads → manifest → queue ∥ webhook → completed.
            var id = $"overhead-{i}";
            await rig.Intake.ValidateAndStartAsync(client, JsonNode.Parse($$"""
                {"jobId":"{{id}}","model":"wanx-v1","input":{"prompt":"overhead {{i}}"},"parameters":{"n":4,"size":"1024*1024"},
                 "notify":{"webhookUrl":"{{rig.WebhookUrl}}"} }
                """), id, CancellationToken.None);
            var instance = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
            var result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? DurableJson.Deserialize<JobResult>(instance.SerializedOutput) : null;
            if (result is null || result.Status != JobStatus.Succeeded || result.Images.Count(x => x.Error is null) != 4 || !rig.Webhooks.TryGetValue($"{id}/completed", out var hookAt))
            {
                Console.Error.WriteLine($"{id}: {instance.RuntimeStatus} {result?.Status} {result?.Error?.Code} {result?.Error?.Message} {instance.FailureDetails?.ErrorMessage}");
                return 1;
            }

            // The floor, right after, in the same conditions: same hub, same settings, one instance at a time.
            var floorId = $"floor-{i}";
            var beforeStart = DateTime.UtcNow;
            await client.ScheduleNewOrchestrationInstanceAsync(FloorOrchestration, 0, new StartOrchestrationOptions(floorId));
            var floor = await client.WaitForInstanceCompletionAsync(floorId, getInputsAndOutputs: true);
            var stages = floor.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? DurableJson.Deserialize<DateTime[]>(floor.SerializedOutput) : null;
            if (stages is null)
            {
                Console.Error.WriteLine($"{floorId}: {floor.RuntimeStatus} {floor.FailureDetails?.ErrorMessage}");
                return 1;
            }

            last = result;
            if (i < 2)
            {
                continue; // the first two warm up
            }

            jobBreakdowns.Add(History.Analyze(await History.ReadAsync(rig, id), result.DetectedAt!.Value));
            floorBreakdowns.Add(History.Analyze(await History.ReadAsync(rig, floorId), stages[0]));
            var done = Max(instance.LastUpdatedAt.UtcDateTime, hookAt);
            overheads.Add((done - result.DetectedAt!.Value).TotalMilliseconds);
            toImages.Add((result.CompletedAt - result.DetectedAt!.Value).TotalMilliseconds);
            imagesToHook.Add((hookAt - result.CompletedAt).TotalMilliseconds);
            floors.Add((floor.LastUpdatedAt.UtcDateTime - stages[0]).TotalMilliseconds);
            floorsFromStart.Add((floor.LastUpdatedAt.UtcDateTime - beforeStart).TotalMilliseconds);
            floorFanOut.Add((stages[1] - stages[0]).TotalMilliseconds);
        }

        // The work alone, without the runtime: the 4 copies the download activities make (ResultImageStore, the same
        // instance the activities use), of the last job's result URLs into fresh blobs, 4 at a time.
        var store = rig.App.Services.GetRequiredService<ResultImageStore>();
        var api = new DashScopeClient(new DashScopeClientOptions { Endpoint = rig.Emulator.BaseAddress, ApiKey = "sk-bench" });
        var urls = (await api.GetTaskAsync(last!.TaskId!)).Results.Select(r => r.Url!).ToList();
        var copies = new List<double>();
        for (var round = 0; round < jobs; round++)
        {
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(urls.Select((url, index) => store.CopyAsync(new ResultImageCopy(url, "bench-copies", $"round-{round}/{index}.png",
                new Dictionary<string, string>(), 64 * 1024 * 1024))));
            copies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        // The emulator's own work, done in the background from the task's acceptance (the real service has the
        // results stored by then): a download that arrives sooner waits for the rest of its image's render.
        var renders = new List<double>();
        for (var round = 0; round < jobs; round++)
        {
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, 4).Select(k => Task.Run(() => PngEncoder.Paint(1024, 1024, hash: (ulong)((round * 4) + k + 12345)))));
            renders.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        renders.Sort();
        if (args.Get("dump-history", "false") == "true")
        {
            await History.DumpAsync(rig, $"overhead-{jobs + 1}");
            await History.DumpAsync(rig, $"floor-{jobs + 1}");
        }

        copies.Sort();
        overheads.Sort();
        toImages.Sort();
        imagesToHook.Sort();
        floors.Sort();
        floorsFromStart.Sort();
        floorFanOut.Sort();
        var report = new Report("overhead");
        RuntimeKnobs.Describe(rig.Settings, report);
        report.Add("jobs", overheads.Count);
        report.Add("overhead_p50_ms", Report.Percentile(overheads, 50), "ms", "<= 150 (DetectedAt → images stored + webhook received + completed)");
        report.Add("overhead_p95_ms", Report.Percentile(overheads, 95), "ms");
        report.Add("overhead_max_ms", overheads[^1], "ms");
        report.Add("overhead.detected_to_images_stored_p50_ms", Report.Percentile(toImages, 50), "ms", "DetectedAt → CompletedAt (4 downloads fanned in)");
        report.Add("overhead.images_stored_to_webhook_p50_ms", Report.Percentile(imagesToHook, 50), "ms", "CompletedAt → webhook received (manifest, then queue ∥ webhook)");
        report.Add("work.copy_4_images_p50_ms", Report.Percentile(copies, 50), "ms", "4 ResultImageStore copies in parallel, no runtime (GET 1024² PNG + blob upload)");
        report.Add("work.copy_4_images_p95_ms", Report.Percentile(copies, 95), "ms");
        report.Add("emulator.render_4_pngs_p50_ms", Report.Percentile(renders, 50), "ms", "the emulator renders results in the background from acceptance (measured here alone)");
        Breakdowns(report, "overhead", jobBreakdowns);
        Breakdowns(report, "floor", floorBreakdowns);
        report.Add("floor_p50_ms", Report.Percentile(floors, 50), "ms", "no-op 4 ∥ → 1 → 2 ∥: first episode → completed (as DetectedAt → completed)");
        report.Add("floor_p95_ms", Report.Percentile(floors, 95), "ms");
        report.Add("floor.fan_out_p50_ms", Report.Percentile(floorFanOut, 50), "ms", "first episode → 4 no-ops fanned in");
        report.Add("floor_from_start_p50_ms", Report.Percentile(floorsFromStart, 50), "ms", "client start call → completed (adds the start message hop)");
        report.Add("floor_from_start_p95_ms", Report.Percentile(floorsFromStart, 95), "ms");
        report.Add("overhead_vs_floor_p50", Report.Percentile(overheads, 50) / Report.Percentile(floors, 50), "x");
        report.Add("overhead_minus_floor_minus_copies_p50_ms", Report.Percentile(overheads, 50) - Report.Percentile(floors, 50) - Report.Percentile(copies, 50), "ms",
            "what is left: manifest, queue message, webhook, payload sizes");
        rig.Describe(report);
        report.Print();
        return 0;
    }

    public static async Task<int> ThroughputAsync(BenchmarkArgs args)
    {
        var perModel = args.GetInt("jobs", 200) / 4;
        var timeScale = args.GetDouble("time-scale", 0.01);
        var rateWindows = args.Get("rate-windows", "scaled");
        var parallelStarts = args.GetInt("start-parallelism", 16);
        if (rateWindows is not ("scaled" or "real"))
        {
            Console.Error.WriteLine("--rate-windows must be 'scaled' or 'real'.");
            return 2;
        }

        // scaled: the emulator is the real service sped up in every respect (2 submits per service second, 20 queries per
        // service second); real: the limits stay per real second while tasks run 1/time-scale faster.
        await using var rig = await Rig.StartAsync(new RigOptions
        {
            TimeScale = timeScale, Limits = true, ScaleRateWindows = rateWindows == "scaled", Knobs = RuntimeKnobs.Parse(args),
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time scale {timeScale}, rate windows {rateWindows}"));
        var client = rig.Client;
        var models = ModelJobs.Bodies;

        // Interleaved by model and started with bounded parallelism, so no model waits for another's starts.
        var ids = Enumerable.Range(0, perModel)
            .SelectMany(i => models.Select(m => (Id: $"tp-{m.Model}-{i}".Replace(".", "_", StringComparison.Ordinal), m.Model, m.Body)))
            .ToList();
        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = parallelStarts }, async (j, ct) =>
        {
            var node = JsonNode.Parse(j.Body)!.AsObject();
            node["jobId"] = j.Id;
            await rig.Intake.ValidateAndStartAsync(client, node, j.Id, ct);
        });
        var startSeconds = clock.Elapsed.TotalSeconds;

        // One listing of the hub every 2 s instead of one waiting call per job: the client serves each
        // WaitForInstanceCompletion by polling the Instances table, and 200 of those at once load Azurite more than the
        // jobs do. Jobs not done by the deadline are reported (unfinished), not waited for forever.
        var timeout = TimeSpan.FromSeconds(args.GetInt("timeout-seconds", 600));
        var finished = await Instances.WaitAllAsync(client, "tp-", ids.Count, timeout, count =>
        {
            var s = rig.Emulator.Stats.Snapshot();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {clock.Elapsed.TotalSeconds,6:F1}s  done {count}/{ids.Count}  accepted {s.Accepted}  queries {s.Queries}  throttled {s.Throttled}"));
        });
        var waits = Task.FromResult(ids.Select(j =>
        {
            if (!finished.TryGetValue(j.Id, out var instance))
            {
                return (j.Id, j.Model, Result: (JobResult?)null, Done: default(DateTime), Status: (string?)$"not done after {timeout.TotalSeconds} s");
            }

            var result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? DurableJson.Deserialize<JobResult>(instance.SerializedOutput) : null;
            return (j.Id, j.Model, Result: result, Done: instance.LastUpdatedAt.UtcDateTime,
                Status: result is null ? $"{instance.RuntimeStatus}: {instance.FailureDetails?.ErrorMessage}" : null);
        }).ToArray());

        var all = await waits;
        var unfinished = all.Where(r => r.Result is null).ToList();
        foreach (var group in unfinished.GroupBy(r => r.Status![..Math.Min(r.Status!.Length, 60)]))
        {
            Console.Error.WriteLine($"  {group.Count()} jobs: {group.First().Status} (e.g. {group.First().Id})");
        }

        var results = all.Where(r => r.Result is not null).Select(r => (r.Model, Result: r.Result!, r.Done)).ToArray();
        if (results.Length == 0)
        {
            Console.Error.WriteLine("No job completed.");
            var failed = new Report("throughput");
            RuntimeKnobs.Describe(rig.Settings, failed);
            failed.Add("jobs", all.Length);
            failed.Add("completed_jobs", 0, "", all.Length.ToString(CultureInfo.InvariantCulture));
            failed.Add("accepted", rig.Emulator.Stats.Snapshot().Accepted);
            rig.Describe(failed);
            failed.Print();
            return 1;
        }

        var makespan = results.Max(r => r.Done) - startedAt.UtcDateTime;
        var makespanSeconds = makespan.TotalSeconds;
        var stats = rig.Emulator.Stats.Snapshot();

        // Provider-side busy time per model, from the task list (start/end of every task).
        var tasks = await rig.ListProviderTasksAsync();
        var report = new Report("throughput");
        RuntimeKnobs.Describe(rig.Settings, report);
        report.Add("time_scale", timeScale);
        report.Add("rate_windows", rateWindows);
        double ideal = 0, busyTotal = 0, capacity = 0;
        foreach (var (model, _) in models)
        {
            var profile = DashScopeModels.GetProfile(model);
            var mine = tasks.Values.Where(t => t.Model == model).ToList();
            var durations = mine.Select(t => (t.End - t.Start).TotalSeconds).ToList();
            var mean = durations.Count > 0 ? durations.Average() : double.NaN;
            var modelIdeal = perModel * mean / profile.MaxConcurrentTasks;
            var submitBound = (perModel - profile.SubmitRequestsPerSecond) / (double)profile.SubmitRequestsPerSecond * (rateWindows == "scaled" ? timeScale : 1);
            var lastDone = results.Where(r => r.Model == model).Select(r => r.Done).DefaultIfEmpty().Max();
            ideal = Math.Max(ideal, modelIdeal);
            busyTotal += durations.Sum();
            capacity += profile.MaxConcurrentTasks * makespanSeconds;
            report.Add($"{model}.task_mean_s", mean, "s");
            report.Add($"{model}.ideal_s", modelIdeal, "s", "jobs × task time / concurrency");
            report.Add($"{model}.submit_rate_bound_s", submitBound, "s", "jobs / submit RPS");
            report.Add($"{model}.utilization_pct", 100 * durations.Sum() / (profile.MaxConcurrentTasks * makespanSeconds), "%");
            if (mine.Count > 0)
            {
                // Where the makespan goes: before the provider starts the first task, while it works, after the last one.
                var first = mine.Min(t => t.Start);
                var last = mine.Max(t => t.End);
                report.Add($"{model}.first_task_started_s", (first - startedAt).TotalSeconds, "s", "from the first job's start");
                report.Add($"{model}.provider_span_s", (last - first).TotalSeconds, "s", "first task start to last task end");
                report.Add($"{model}.tail_s", (lastDone - last.UtcDateTime).TotalSeconds, "s", "last task end to last job done");
            }
        }

        // Per job: task end at the provider → SUCCEEDED seen → images stored and events sent.
        var detection = results.Where(r => r.Result.TaskId is { } t && tasks.ContainsKey(t) && r.Result.DetectedAt is not null)
            .Select(r => (r.Result.DetectedAt!.Value - tasks[r.Result.TaskId!].End.UtcDateTime).TotalSeconds).Order().ToList();
        var finishing = results.Where(r => r.Result.DetectedAt is not null)
            .Select(r => (r.Result.CompletedAt - r.Result.DetectedAt!.Value).TotalSeconds).Order().ToList();
        report.Add("detection_lag_p50_s", Report.Percentile(detection, 50), "s", "task end → SUCCEEDED seen");
        report.Add("detection_lag_p95_s", Report.Percentile(detection, 95), "s");
        report.Add("finish_p50_s", Report.Percentile(finishing, 50), "s", "seen → images stored");
        report.Add("finish_p95_s", Report.Percentile(finishing, 95), "s");
        // Where the orchestration work goes: episodes, timers and history rows per job, from a sample of histories.
        var sample = results.Where((_, i) => i % Math.Max(1, results.Length / 40) == 0).ToList();
        var histories = new List<(int Episodes, int Timers, int Events)>();
        foreach (var r in sample)
        {
            var events = await History.ReadAsync(rig, r.Result.JobId);
            histories.Add((events.Count(e => e.Type == "OrchestratorStarted"), events.Count(e => e.Type == "TimerCreated"), events.Count));
        }

        if (args.Get("dump-history", "false") == "true" && results.Length > 0)
        {
            await History.DumpAsync(rig, results[0].Result.JobId);
        }

        static double P50(IEnumerable<int> values) => Report.Percentile(values.Select(v => (double)v).Order().ToList(), 50);
        report.Add("history_sample_jobs", histories.Count);
        report.Add("episodes_per_job_p50", P50(histories.Select(h => h.Episodes)), "", "orchestrator episodes (each: history load, replay, commit)");
        report.Add("episodes_per_job_max", histories.Count > 0 ? histories.Max(h => h.Episodes) : 0);
        report.Add("timers_per_job_p50", P50(histories.Select(h => h.Timers)), "", "durable timers, re-waits after early firing included");
        report.Add("history_events_per_job_p50", P50(histories.Select(h => h.Events)));
        report.Add("jobs", all.Length);
        report.Add("completed_jobs", results.Length, "", all.Length.ToString(CultureInfo.InvariantCulture));
        report.Add("unfinished_jobs", unfinished.Count, "", "0 (not completed by the deadline, or ended other than Completed)");
        report.Add("start_s", startSeconds, "s", $"all {ids.Count} starts, {parallelStarts} in flight");
        report.Add("makespan_s", makespanSeconds, "s", "first start → last orchestration completed");
        report.Add("ideal_s", ideal, "s");
        report.Add("makespan_vs_ideal", makespanSeconds / ideal, "x");
        report.Add("provider_utilization_pct", 100 * ideal / makespanSeconds, "%", ">= 95 (ideal / makespan of the slowest model)");
        report.Add("provider_busy_pct_all_models", 100 * busyTotal / capacity, "%");
        report.Add("submissions", stats.Submissions);
        report.Add("accepted", stats.Accepted);
        report.Add("queries", stats.Queries);
        report.Add("throttled", stats.Throttled);
        foreach (var (kind, count) in stats.ThrottledByKind)
        {
            report.Add($"throttled.{kind}", count);
        }

        report.Add("failed_jobs", results.Count(r => r.Result.Status != JobStatus.Succeeded) + unfinished.Count, "", "0 (unfinished included)");
        rig.Describe(report);
        report.Print();
        return 0;
    }

    private static void Breakdowns(Report report, string prefix, List<History.Breakdown> all)
    {
        static double P50(IEnumerable<double> values) => Report.Percentile(values.Order().ToList(), 50);
        report.Add($"{prefix}.history_events_before_p50", P50(all.Select(b => (double)b.EventsBefore)), "", "history replayed by every later episode (no extended sessions)");
        report.Add($"{prefix}.timers_created_p50", P50(all.Select(b => (double)b.Timers)));
        report.Add($"{prefix}.episodes_p50", P50(all.Select(b => (double)b.Episodes)), "", "episodes from the first one to completion");
        report.Add($"{prefix}.activity_hop_p50_ms", P50(all.SelectMany(b => b.ActivityMs)), "ms", "TaskScheduled → TaskCompleted (queue, dispatch, run)");
        report.Add($"{prefix}.completion_to_episode_p50_ms", P50(all.SelectMany(b => b.DeliveryMs)), "ms", "TaskCompleted → next episode start (control queue, history load)");
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}

/// <summary>One job body per model family, as the throughput and polls benchmarks submit them.</summary>
internal static class ModelJobs
{
    private static readonly string s_image = DashScopeImageData.ToDataUri(PngEncoder.Paint(512, 512, hash: 1));

    public static IReadOnlyList<(string Model, string Body)> Bodies { get; } =
    [
        (DashScopeModels.WanxV1, """{"model":"wanx-v1","input":{"prompt":"p"},"parameters":{"n":1}}"""),
        (DashScopeModels.WanxImageEdit, $$"""{"model":"wanx2.1-imageedit","input":{"function":"stylization_all","prompt":"p","base_image_url":"{{s_image}}"},"parameters":{"n":1} }"""),
        (DashScopeModels.Wan25ImageToImagePreview, $$"""{"model":"wan2.5-i2i-preview","input":{"prompt":"p","images":["{{s_image}}"]},"parameters":{"n":1,"size":"768*768"} }"""),
        (DashScopeModels.QwenImagePlus, """{"model":"qwen-image-plus","input":{"prompt":"p"},"parameters":{"n":1,"size":"928*1664"}}"""),
    ];
}
