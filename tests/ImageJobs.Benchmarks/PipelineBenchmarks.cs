using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local;
using ImageJobs.Testing;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Pipeline;
using ImageJobs.Workflow.Triggers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Benchmarks;

/// <summary>
/// The whole pipeline on loopback: Azurite, the emulator, the embedded engine, a webhook receiver.
/// <list type="bullet">
/// <item><c>overhead</c>: from the poll that sees SUCCEEDED to 4 images of 1024² in blob and every completion event
/// sent (webhook received, queue written, orchestration completed); median and p95.</item>
/// <item><c>throughput</c>: 200 jobs (50 per model family) against the emulator at time scale 0.01 with the real
/// per-model limits; makespan vs the ideal, provider utilization, throttled requests, failures.</item>
/// </list>
/// </summary>
internal static class PipelineBenchmarks
{
    private const string Secret = "benchmark-webhook-secret";

    public static async Task<int> OverheadAsync(BenchmarkArgs args)
    {
        var jobs = args.GetInt("jobs", 30);
        await using var rig = await Rig.StartAsync(timeScale: 0.01, limits: true);
        var intake = rig.App.Services.GetRequiredService<JobIntake>();
        var client = rig.App.Services.GetRequiredService<IOrchestrationClient>();
        var overheads = new List<double>();
        for (var i = 0; i < jobs + 2; i++)
        {
            var id = $"overhead-{i}";
            await intake.ValidateAndStartAsync(JsonNode.Parse($$"""
                {"jobId":"{{id}}","model":"wanx-v1","input":{"prompt":"overhead {{i}}"},"parameters":{"n":4,"size":"1024*1024"},
                 "notify":{"webhookUrl":"{{rig.WebhookUrl}}"} }
                """), id, CancellationToken.None);
            var instance = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
            var result = instance.ReadOutputAs<JobResult>()!;
            if (result.Status != JobStatus.Succeeded || result.Images.Count(x => x.Error is null) != 4 || !rig.Webhooks.TryGetValue($"{id}/completed", out var hookAt))
            {
                Console.Error.WriteLine($"{id}: {result.Status} {result.Error?.Code} {result.Error?.Message}");
                return 1;
            }

            var done = Max(instance.LastUpdatedAt.UtcDateTime, hookAt);
            if (i >= 2)
            {
                overheads.Add((done - result.DetectedAt!.Value).TotalMilliseconds); // the first two warm up
            }
        }

        overheads.Sort();
        var report = new Report("overhead");
        report.Add("jobs", overheads.Count);
        report.Add("overhead_p50_ms", Report.Percentile(overheads, 50), "ms", "<= 150");
        report.Add("overhead_p95_ms", Report.Percentile(overheads, 95), "ms");
        report.Add("overhead_max_ms", overheads[^1], "ms");
        report.Print();
        return 0;
    }

    public static async Task<int> ThroughputAsync(BenchmarkArgs args)
    {
        var perModel = args.GetInt("jobs", 200) / 4;
        var timeScale = double.Parse(args.Get("time-scale", "0.01"), CultureInfo.InvariantCulture);
        var rateWindows = args.Get("rate-windows", "scaled");
        if (rateWindows is not ("scaled" or "real"))
        {
            Console.Error.WriteLine("--rate-windows must be 'scaled' or 'real'.");
            return 2;
        }

        // scaled: the emulator is the real service sped up in every respect (2 submits per service second, 20 queries per
        // service second); real: the limits stay per real second while tasks run 1/time-scale faster.
        await using var rig = await Rig.StartAsync(timeScale, limits: true, scaleRateWindows: rateWindows == "scaled");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time scale {timeScale}, rate windows {rateWindows}"));
        var intake = rig.App.Services.GetRequiredService<JobIntake>();
        var client = rig.App.Services.GetRequiredService<IOrchestrationClient>();
        var image = DashScopeImageData.ToDataUri(PngEncoder.Paint(512, 512, hash: 1));
        var models = new (string Model, string Body)[]
        {
            (DashScopeModels.WanxV1, """{"model":"wanx-v1","input":{"prompt":"p"},"parameters":{"n":1}}"""),
            (DashScopeModels.WanxImageEdit, $$"""{"model":"wanx2.1-imageedit","input":{"function":"stylization_all","prompt":"p","base_image_url":"{{image}}"},"parameters":{"n":1} }"""),
            (DashScopeModels.Wan25ImageToImagePreview, $$"""{"model":"wan2.5-i2i-preview","input":{"prompt":"p","images":["{{image}}"]},"parameters":{"n":1,"size":"768*768"} }"""),
            (DashScopeModels.QwenImagePlus, """{"model":"qwen-image-plus","input":{"prompt":"p"},"parameters":{"n":1,"size":"928*1664"}}"""),
        };

        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        var ids = new List<(string Id, string Model)>();
        foreach (var (model, body) in models)
        {
            for (var i = 0; i < perModel; i++)
            {
                var node = JsonNode.Parse(body)!.AsObject();
                var id = $"tp-{model}-{i}".Replace(".", "_", StringComparison.Ordinal);
                node["jobId"] = id;
                await intake.ValidateAndStartAsync(node, id, CancellationToken.None);
                ids.Add((id, model));
            }
        }

        var done = 0;
        var waits = Task.WhenAll(ids.Select(async j =>
        {
            var instance = await client.WaitForInstanceCompletionAsync(j.Id, getInputsAndOutputs: true);
            Interlocked.Increment(ref done);
            return (j.Model, Result: instance.ReadOutputAs<JobResult>() ?? throw new InvalidOperationException($"{j.Id} ended {instance.RuntimeStatus}: {instance.FailureDetails?.ErrorMessage}"));
        }));
        while (await Task.WhenAny(waits, Task.Delay(5000)) != waits)
        {
            var s = rig.Emulator.Stats.Snapshot();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {clock.Elapsed.TotalSeconds,6:F1}s  done {done}/{ids.Count}  accepted {s.Accepted}  queries {s.Queries}  throttled {s.Throttled}"));
        }

        var results = await waits;
        var makespan = clock.Elapsed.TotalSeconds;
        var stats = rig.Emulator.Stats.Snapshot();

        // Provider-side busy time per model, from the task list (start/end of every task).
        var api = new DashScopeClient(new DashScopeClientOptions { Endpoint = rig.Emulator.BaseAddress, ApiKey = "sk-bench" });
        var busy = new Dictionary<string, List<double>>();
        var spans = new Dictionary<string, (DateTimeOffset First, DateTimeOffset Last)>();
        var ends = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        for (var page = 1; ; page++)
        {
            var list = await api.ListTasksAsync(new DashScopeTaskListQuery { PageNo = page, PageSize = 100 });
            foreach (var task in list.Tasks.Where(t => t.StartTime is not null && t.EndTime is not null))
            {
                (busy.TryGetValue(task.ModelName!, out var l) ? l : busy[task.ModelName!] = []).Add((task.EndTime!.Value - task.StartTime!.Value).TotalSeconds);
                ends[task.TaskId!] = task.EndTime.Value;
                spans[task.ModelName!] = spans.TryGetValue(task.ModelName!, out var span)
                    ? (task.StartTime.Value < span.First ? task.StartTime.Value : span.First, task.EndTime.Value > span.Last ? task.EndTime.Value : span.Last)
                    : (task.StartTime.Value, task.EndTime.Value);
            }

            if (list.Tasks.Count < 100)
            {
                break;
            }
        }

        var report = new Report("throughput");
        double ideal = 0, busyTotal = 0, capacity = 0;
        foreach (var (model, _) in models)
        {
            var profile = DashScopeModels.GetProfile(model);
            var durations = busy.GetValueOrDefault(model) ?? [];
            var mean = durations.Count > 0 ? durations.Average() : double.NaN;
            var modelIdeal = perModel * mean / profile.MaxConcurrentTasks;
            var submitBound = (perModel - profile.SubmitRequestsPerSecond) / (double)profile.SubmitRequestsPerSecond * (rateWindows == "scaled" ? timeScale : 1);
            var lastDone = new DateTimeOffset(results.Where(r => r.Model == model).Max(r => r.Result.CompletedAt), TimeSpan.Zero);
            ideal = Math.Max(ideal, modelIdeal);
            busyTotal += durations.Sum();
            capacity += profile.MaxConcurrentTasks * makespan;
            report.Add($"{model}.task_mean_s", mean, "s");
            report.Add($"{model}.ideal_s", modelIdeal, "s", "jobs × task time / concurrency");
            report.Add($"{model}.submit_rate_bound_s", submitBound, "s", "jobs / submit RPS");
            report.Add($"{model}.utilization_pct", 100 * durations.Sum() / (profile.MaxConcurrentTasks * makespan), "%");
            if (spans.TryGetValue(model, out var span))
            {
                // Where the makespan goes: before the provider starts the first task, while it works, after the last one.
                report.Add($"{model}.first_task_started_s", (span.First - startedAt).TotalSeconds, "s", "from the first job's start");
                report.Add($"{model}.provider_span_s", (span.Last - span.First).TotalSeconds, "s", "first task start to last task end");
                report.Add($"{model}.tail_s", (lastDone - span.Last).TotalSeconds, "s", "last task end to last job done");
            }
        }

        // Per job: task end at the provider → SUCCEEDED seen → images stored and events sent.
        var detection = results.Where(r => r.Result.TaskId is { } t && ends.ContainsKey(t) && r.Result.DetectedAt is not null)
            .Select(r => (r.Result.DetectedAt!.Value - ends[r.Result.TaskId!].UtcDateTime).TotalSeconds).Order().ToList();
        var finishing = results.Where(r => r.Result.DetectedAt is not null)
            .Select(r => (r.Result.CompletedAt - r.Result.DetectedAt!.Value).TotalSeconds).Order().ToList();
        report.Add("detection_lag_p50_s", Report.Percentile(detection, 50), "s", "task end → SUCCEEDED seen");
        report.Add("detection_lag_p95_s", Report.Percentile(detection, 95), "s");
        report.Add("finish_p50_s", Report.Percentile(finishing, 50), "s", "seen → images stored, events sent");
        report.Add("finish_p95_s", Report.Percentile(finishing, 95), "s");
        report.Add("rate_windows", rateWindows);
        report.Add("jobs", results.Length);
        report.Add("makespan_s", makespan, "s");
        report.Add("ideal_s", ideal, "s");
        report.Add("makespan_vs_ideal", makespan / ideal, "x");
        report.Add("provider_utilization_pct", 100 * ideal / makespan, "%", ">= 90 (ideal / makespan of the slowest model)");
        report.Add("provider_busy_pct_all_models", 100 * busyTotal / capacity, "%");
        report.Add("submissions", stats.Submissions);
        report.Add("accepted", stats.Accepted);
        report.Add("queries", stats.Queries);
        report.Add("throttled", stats.Throttled);
        foreach (var (kind, count) in stats.ThrottledByKind)
        {
            report.Add($"throttled.{kind}", count);
        }

        report.Add("failed_jobs", results.Count(r => r.Result.Status != JobStatus.Succeeded), "", "0");
        report.Print();
        return 0;
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    /// <summary>Azurite + emulator + webhook receiver + the local app (no HTTP, no triggers).</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly AzuriteFixture _azurite;
        private readonly WebApplication _receiver;
        private readonly LocalEnvironment _environment;

        private Rig(AzuriteFixture azurite, DashScopeEmulatorHost emulator, WebApplication receiver, WebApplication app, LocalEnvironment environment, ConcurrentDictionary<string, DateTime> webhooks)
        {
            _azurite = azurite;
            Emulator = emulator;
            _receiver = receiver;
            App = app;
            _environment = environment;
            Webhooks = webhooks;
        }

        public DashScopeEmulatorHost Emulator { get; }

        public WebApplication App { get; }

        public ConcurrentDictionary<string, DateTime> Webhooks { get; }

        public string WebhookUrl => _receiver.Urls.First() + "/hook";

        public static async Task<Rig> StartAsync(double timeScale, bool limits, bool scaleRateWindows = false)
        {
            var azurite = new AzuriteFixture();
            await azurite.InitializeAsync();
            var emulator = await DashScopeEmulator.StartAsync(new DashScopeEmulatorOptions
            {
                TimeScale = timeScale, ApiKey = "sk-bench", Seed = 1, EnableLimits = limits, ScaleRateWindows = scaleRateWindows,
            });
            var webhooks = new ConcurrentDictionary<string, DateTime>();
            var receiverBuilder = WebApplication.CreateSlimBuilder();
            receiverBuilder.Logging.ClearProviders();
            receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
            var receiver = receiverBuilder.Build();
            receiver.MapPost("/hook", (HttpRequest request) =>
            {
                webhooks[request.Headers["webhook-id"].ToString()] = DateTime.UtcNow;
                return Results.Ok();
            });
            await receiver.StartAsync();
            var authority = emulator.RootAddress.Authority;
            var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions
            {
                Root = RepoPaths.Root,
                Urls = null,
                Triggers = false,
                Quiet = true,
                Overrides = new Dictionary<string, string?>
                {
                    ["AzureWebJobsStorage"] = azurite.ConnectionString,
                    ["DashScope:Endpoint"] = emulator.BaseAddress.AbsoluteUri,
                    ["DashScope:ApiKey"] = "sk-bench",
                    ["ImageJobs:ResultHosts:0"] = authority,
                    ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true",
                    ["ImageJobs:ExpectedDurationScale"] = timeScale.ToString(CultureInfo.InvariantCulture),
                    ["ImageJobs:RateWindowScale"] = (scaleRateWindows ? timeScale : 1).ToString(CultureInfo.InvariantCulture),
                    ["IMAGEJOBS_WEBHOOK_SECRET"] = Secret,
                },
            });
            await app.StartAsync();
            return new Rig(azurite, emulator, receiver, app, environment, webhooks);
        }

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
            await _environment.DisposeAsync();
            await _receiver.DisposeAsync();
            await Emulator.DisposeAsync();
            await _azurite.DisposeAsync();
        }
    }
}
