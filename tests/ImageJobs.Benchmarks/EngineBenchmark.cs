using System.Diagnostics;
using ImageJobs.Durable;
using ImageJobs.Durable.Storage;
using ImageJobs.Testing;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Benchmarks;

/// <summary>
/// The embedded engine under load: N orchestrations waiting on one timer each (start time, peak RSS, timer lag), then
/// N/10 orchestrations of 5 sequential activities and a 10-way fan-out (throughput, latency from schedule to completion).
/// </summary>
internal static class EngineBenchmark
{
    private const string Sleeper = "Sleeper";
    private const string Worker = "Worker";
    private const string Noop = "Noop";
    private static TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var storeKind = args.Get("store", "memory");
        var scale = args.GetInt("scale", 10_000);
        var timerSeconds = args.GetInt("timer-seconds", 60);
        // Blob episodes wait on I/O, so more of them run at once than in memory.
        var orchestrators = args.GetInt("orchestrators", storeKind == "blob" ? 32 : 8);
        var activities = args.GetInt("activities", storeKind == "blob" ? 64 : 32);
        var workers = Math.Max(1, scale / 10);
        var scanSeconds = args.GetInt("scan-seconds", 10);

        // Progress is measured by listing the hub; on blobs a listing of thousands of instances is itself heavy for Azurite.
        s_pollInterval = TimeSpan.FromMilliseconds(args.GetInt("poll-ms", storeKind == "blob" ? 2000 : 100));

        AzuriteFixture? azurite = null;
        IDurableStore store;
        var hub = "bench" + Guid.NewGuid().ToString("N")[..8];
        if (storeKind == "blob")
        {
            azurite = new AzuriteFixture();
            await azurite.InitializeAsync();
            store = new BlobDurableStore(azurite.ConnectionString, hub);
        }
        else if (storeKind == "memory")
        {
            store = new InMemoryDurableStore();
        }
        else
        {
            Console.Error.WriteLine($"Unknown store '{storeKind}' (memory|blob).");
            return 2;
        }

        var engine = new DurableEngineBuilder()
            .UseStore(store)
            .Configure(o =>
            {
                o.HubName = hub;
                o.MaxConcurrentOrchestratorFunctions = orchestrators;
                o.MaxConcurrentActivityFunctions = activities;
                o.ClientPollingInterval = TimeSpan.FromMilliseconds(200);
                o.InstancePollingInterval = TimeSpan.FromSeconds(scanSeconds);
            })
            .AddActivity<int, int>(Noop, (x, _) => Task.FromResult(x + 1))
            .AddOrchestration<int, double[]>(Sleeper, async (ctx, seconds) =>
            {
                // Reports when it started and how late its timer fired, so the benchmark need not poll while it measures.
                var startedAt = ctx.CurrentUtcDateTime;
                var fireAt = startedAt.AddSeconds(seconds);
                await ctx.CreateTimer(fireAt, CancellationToken.None);
                return [(startedAt - DateTime.UnixEpoch).TotalMilliseconds, (ctx.CurrentUtcDateTime - fireAt).TotalMilliseconds];
            })
            .AddOrchestration<int, int>(Worker, async (ctx, x) =>
            {
                for (var i = 0; i < 5; i++)
                {
                    x = await ctx.CallActivityAsync<int>(Noop, x);
                }

                var fan = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => ctx.CallActivityAsync<int>(Noop, x + i)));
                return fan.Sum();
            })
            .Build();

        var report = new Report("engine");
        report.Add("store", storeKind);
        report.Add("cores", Environment.ProcessorCount);
        report.Add("orchestrators", orchestrators);
        report.Add("activities", activities);
        report.Add("scan_interval_s", scanSeconds);
        try
        {
            await engine.StartAsync();
            var client = engine.Client;
            Console.WriteLine($"engine benchmark: store={storeKind}, {scale} waiting orchestrations ({timerSeconds} s timers), then {workers} workers");

            // Phase 1: N orchestrations waiting on a timer.
            var t0 = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            await ScheduleAsync(client, Sleeper, "sleep-", scale, _ => timerSeconds);
            var scheduledSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"  {scale} scheduled in {scheduledSeconds:0.0} s; waiting for timers…");

            // The last one scheduled fires about last: wait for it cheaply, then confirm all with a listing.
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timerSeconds + 600)))
            {
                await client.WaitForInstanceCompletionAsync($"sleep-{scale - 1:D6}", false, cts.Token);
            }

            await WaitAsync(() => CountAsync(client, "sleep-", OrchestrationStatus.Completed), n => n == scale, TimeSpan.FromSeconds(600), "all timers fired");
            var rssWaiting = Report.PeakRssMegabytes();
            var lags = new List<double>(scale);
            var lastStart = DateTime.MinValue;
            await foreach (var instance in client.GetAllInstancesAsync(new OrchestrationInstanceQuery { InstanceIdPrefix = "sleep-", FetchInputsAndOutputs = true, PageSize = 1000 }))
            {
                var output = instance.ReadOutputAs<double[]>()!;
                var startedAt = DateTime.UnixEpoch.AddMilliseconds(output[0]);
                lastStart = startedAt > lastStart ? startedAt : lastStart;
                lags.Add(output[1]);
            }

            var startedSeconds = (lastStart - t0).TotalSeconds;
            Console.WriteLine($"  {scale} started in {startedSeconds:0.0} s; peak RSS {rssWaiting:0} MB");
            lags.Sort();
            report.Add("waiting_orchestrations", scale);
            report.Add("waiting_schedule_s", scheduledSeconds, "s");
            report.Add("waiting_start_all_s", startedSeconds, "s");
            report.Add("waiting_peak_rss_mb", rssWaiting, "MB", "< 500");
            report.Add("timer_lag_p50_ms", Report.Percentile(lags, 50), "ms");
            report.Add("timer_lag_p99_ms", Report.Percentile(lags, 99), "ms", "< 1000");
            report.Add("timer_lag_max_ms", lags.Count > 0 ? lags[^1] : double.NaN, "ms");

            // Phase 2: throughput of activity-heavy orchestrations.
            clock.Restart();
            await ScheduleAsync(client, Worker, "work-", workers, i => i);
            await WaitAsync(() => CountAsync(client, "work-", OrchestrationStatus.Completed), n => n == workers, TimeSpan.FromMinutes(30), "all workers completed");
            var workSeconds = clock.Elapsed.TotalSeconds;
            var latencies = new List<double>(workers);
            await foreach (var instance in client.GetAllInstancesAsync(new OrchestrationInstanceQuery { InstanceIdPrefix = "work-", PageSize = 1000 }))
            {
                latencies.Add((instance.LastUpdatedAt - instance.CreatedAt).TotalMilliseconds);
            }

            latencies.Sort();
            report.Add("work_orchestrations", workers);
            report.Add("work_activities", workers * 15);
            report.Add("work_total_s", workSeconds, "s");
            report.Add("work_orchestrations_per_s", workers / workSeconds, "1/s");
            report.Add("work_activities_per_s", workers * 15 / workSeconds, "1/s");
            report.Add("work_latency_p50_ms", Report.Percentile(latencies, 50), "ms");
            report.Add("work_latency_p99_ms", Report.Percentile(latencies, 99), "ms");
            report.Add("peak_rss_mb", Report.PeakRssMegabytes(), "MB");
        }
        finally
        {
            await engine.DisposeAsync();
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }
        }

        report.Print();
        return 0;
    }

    private static async Task ScheduleAsync(IOrchestrationClient client, string name, string prefix, int count, Func<int, int> input) =>
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await client.ScheduleNewOrchestrationInstanceAsync(name, input(i), new ScheduleOrchestrationOptions($"{prefix}{i:D6}"), ct));

    private static async Task<int> CountAsync(IOrchestrationClient client, string prefix, OrchestrationStatus status)
    {
        var count = 0;
        await foreach (var _ in client.GetAllInstancesAsync(new OrchestrationInstanceQuery { InstanceIdPrefix = prefix, Statuses = [status], PageSize = 5000 }))
        {
            count++;
        }

        return count;
    }

    private static async Task WaitAsync(Func<Task<int>> measure, Func<int, bool> done, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await measure();
            if (done(value))
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out waiting until {what} (last count {value}).");
            }

            await Task.Delay(s_pollInterval);
        }
    }
}
