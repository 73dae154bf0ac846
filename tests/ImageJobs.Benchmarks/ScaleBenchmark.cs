using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Benchmarks;

/// <summary>
/// <c>scale</c>: N orchestrations (default 10 000) waiting on one durable timer each, all due at the same moment, on the
/// real runtime (<see cref="Rig"/>: the Azure Storage provider over Azurite, the framework's TaskHubWorker). Reports the
/// start rate, peak RSS, how many were waiting at the same moment, the episodes per second while the timers fire, and
/// timer lag:
/// <list type="bullet">
/// <item>orchestration time: <c>CurrentUtcDateTime</c> after the timer (the start of the episode that processes
/// TimerFired) − fireAt, the due time every orchestration is given;</item>
/// <item>wall clock: <see cref="DateTime.UtcNow"/> when the orchestrator code after the timer runs (not replaying),
/// recorded in-process − fireAt.</item>
/// </list>
/// A timer that fires early counts as lag too (absolute value); early ones are also counted on their own.
/// </summary>
internal static class ScaleBenchmark
{
    private const string Sleeper = "BenchScaleSleeper";

    private sealed class Probe
    {
        public int Armed;
        public int Fired;
        public readonly ConcurrentDictionary<string, (double OrchestrationLagMs, double WallLagMs, DateTime FiredAt)> Lags = new(StringComparer.Ordinal);
    }

    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var scale = args.GetInt("scale", 10_000);
        // Every timer falls due at the same moment: this many seconds after the first start (default: room for the starts
        // and first episodes at about 40 a second, and a minute more).
        var timerSeconds = args.GetDouble("timer-seconds", 60 + scale / 40.0);
        var parallelism = args.GetInt("start-parallelism", 48);
        var knobs = RuntimeKnobs.Parse(args);
        var probe = new Probe();
        await using var rig = await Rig.StartAsync(new RigOptions
        {
            Knobs = knobs,
            ConfigureTasks = tasks => tasks.AddOrchestratorFunc<DateTime, double>(Sleeper, async (context, fireAt) =>
            {
                if (!context.IsReplaying)
                {
                    Interlocked.Increment(ref probe.Armed);
                }

                await context.CreateTimer(fireAt, CancellationToken.None);
                var lag = (context.CurrentUtcDateTime - fireAt).TotalMilliseconds;
                if (!context.IsReplaying && probe.Lags.TryAdd(context.InstanceId, (lag, (DateTime.UtcNow - fireAt).TotalMilliseconds, DateTime.UtcNow)))
                {
                    Interlocked.Increment(ref probe.Fired);
                }

                return lag;
            }),
        });

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {scale} orchestrations, every timer due {timerSeconds} s after the first start, {parallelism} starts in flight"));
        var historyTable = new TableServiceClient(rig.StorageConnectionString).GetTableClient(rig.Settings.TaskHubName + "History");
        var emptyQuery = await HistoryQueryMsAsync(historyTable);
        var clock = Stopwatch.StartNew();
        var dueAt = DateTime.UtcNow.AddSeconds(timerSeconds);
        var peakWaiting = 0;
        var allArmedAt = double.NaN;
        using var stop = new CancellationTokenSource();
        var monitor = Task.Run(async () =>
        {
            var lastPrint = TimeSpan.Zero;
            while (!stop.IsCancellationRequested)
            {
                var armed = Volatile.Read(ref probe.Armed);
                var fired = Volatile.Read(ref probe.Fired);
                peakWaiting = Math.Max(peakWaiting, armed - fired);
                if (armed >= scale && double.IsNaN(allArmedAt))
                {
                    allArmedAt = clock.Elapsed.TotalSeconds;
                }

                if (clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(10))
                {
                    lastPrint = clock.Elapsed;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {clock.Elapsed.TotalSeconds,6:F1}s  started {Volatile.Read(ref s_started)}  waiting {armed - fired}  fired {fired}  rss {RssMegabytes("VmRSS"):F0} MB"));
                }

                try
                {
                    await Task.Delay(100, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        await Parallel.ForEachAsync(Enumerable.Range(0, scale), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
        {
            await rig.Client.ScheduleNewOrchestrationInstanceAsync(Sleeper, dueAt,
                new StartOrchestrationOptions(string.Create(CultureInfo.InvariantCulture, $"scale-{i:D6}")), ct);
            Interlocked.Increment(ref s_started);
        });
        var startSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  all {scale} started in {startSeconds:F1} s ({scale / startSeconds:F0}/s)"));

        // Wait for every timer: the last one was armed after the starts; give the backlog generous room.
        var deadline = TimeSpan.FromSeconds(startSeconds + timerSeconds + 900);
        while (Volatile.Read(ref probe.Fired) < scale && clock.Elapsed < deadline)
        {
            await Task.Delay(200);
        }

        var allFiredAt = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await monitor;

        // The profile: the provider loads an instance's history with a partition query; time one on the table as it is
        // now, beside the same query on the empty table at the start.
        var fullQuery = await HistoryQueryMsAsync(historyTable);
        var historyRows = 0;
        await foreach (var unused in historyTable.QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            historyRows++;
        }

        var lags = probe.Lags.Values.ToList();
        var orchestrationLag = lags.Select(l => Math.Abs(l.OrchestrationLagMs) / 1000).Order().ToList();
        var wallLag = lags.Select(l => Math.Abs(l.WallLagMs) / 1000).Order().ToList();
        var report = new Report("scale");
        RuntimeKnobs.Describe(rig.Settings, report);
        report.Add("orchestrations", scale);
        report.Add("timers_due_s", timerSeconds, "s", "after the first start, all at once");
        report.Add("start_parallelism", parallelism);
        report.Add("start_s", startSeconds, "s");
        report.Add("start_rate_per_s", scale / startSeconds, "/s");
        report.Add("all_waiting_s", allArmedAt, "s", "until every first episode had created its timer");
        report.Add("peak_waiting", peakWaiting, "", $"= {scale}: all waiting at once");
        report.Add("fired", lags.Count, "", $"{scale}");
        report.Add("all_fired_s", allFiredAt, "s");
        // Each fire is one episode (TimerFired, then completion), and every timer falls due at once: the rate the hub ran
        // them from the due time to the last fire.
        var fireSpan = lags.Count > 1 ? (lags.Max(l => l.FiredAt) - dueAt).TotalSeconds : double.NaN;
        report.Add("fire_episodes_per_s", lags.Count / fireSpan, "/s", ">= 50 (due time -> last fire)");
        report.Add("peak_rss_mb", RssMegabytes("VmHWM"), "MB", "< 500 (this process: app, engine, client)");
        report.Add("azurite_peak_rss_mb", RssMegabytes("VmHWM", rig.AzuriteProcessId), "MB", "separate process");
        report.Add("timer_lag_p50_s", Report.Percentile(orchestrationLag, 50), "s", "< 1 (|CurrentUtcDateTime after timer − fireAt|)");
        report.Add("timer_lag_p99_s", Report.Percentile(orchestrationLag, 99), "s", "< 1");
        report.Add("timer_lag_max_s", orchestrationLag.Count > 0 ? orchestrationLag[^1] : double.NaN, "s");
        report.Add("timer_wall_lag_p50_s", Report.Percentile(wallLag, 50), "s", "|code after the timer ran (wall clock) − fireAt|");
        report.Add("timer_wall_lag_p99_s", Report.Percentile(wallLag, 99), "s");
        report.Add("timer_wall_lag_max_s", wallLag.Count > 0 ? wallLag[^1] : double.NaN, "s");
        report.Add("timers_early", lags.Count(l => l.OrchestrationLagMs < 0), "", "CurrentUtcDateTime before fireAt");
        report.Add("timer_early_max_s", lags.Count > 0 ? Math.Max(0, -lags.Min(l => l.OrchestrationLagMs) / 1000) : double.NaN, "s");
        report.Add("profile.history_rows", historyRows, "", "rows in {hub}History at the end");
        report.Add("profile.history_query_empty_ms", emptyQuery, "ms", "one instance's history (partition query), median of 10, on the empty table");
        report.Add("profile.history_query_end_ms", fullQuery, "ms", "the same query at the end (stock Azurite scans every row of the table for it; the patched one ranges over the PartitionKey index)");
        rig.Describe(report);
        report.Print();
        return lags.Count == scale ? 0 : 1;
    }

    /// <summary>The median time of 10 partition queries on <paramref name="table"/>, as the provider's history load makes.</summary>
    private static async Task<double> HistoryQueryMsAsync(TableClient table)
    {
        var times = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var key = string.Create(CultureInfo.InvariantCulture, $"scale-{i * 7:D6}");
            await foreach (var unused in table.QueryAsync<TableEntity>(e => e.PartitionKey == key))
            {
            }

            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return Report.Percentile(times.Order().ToList(), 50);
    }

    private static int s_started;

    /// <summary>A line of <c>/proc/{pid}/status</c> (VmHWM: peak resident set; VmRSS: current), in MB.</summary>
    private static double RssMegabytes(string field, int? pid = null)
    {
        try
        {
            var line = File.ReadLines($"/proc/{(pid is null ? "self" : pid.Value.ToString(CultureInfo.InvariantCulture))}/status")
                .FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return pid is null ? Report.PeakRssMegabytes() : double.NaN;
        }
    }
}
