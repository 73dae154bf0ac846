using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local;
using ImageJobs.Local.Durable;
using ImageJobs.Testing;

namespace ImageJobs.Benchmarks;

/// <summary>
/// 1 against N <c>serve</c> processes (<c>serve --instances N</c>, real processes) on one Azurite and one task hub, each
/// run with 200 jobs (50 per model family) posted round-robin over the instances, against one emulator at a time scale
/// with scaled rate windows (the real service sped up in every respect). With more than one process, the last instance
/// is SIGKILLed once a third of the jobs are submitted, and the survivors' takeover is timed.
/// </summary>
internal static partial class ScaleOutBenchmark
{
    private const string FunctionKey = "scaleout-benchmark-key";
    private const string ApiKey = "sk-scaleout";

    // host.json: extensions.durableTask.storageProvider.partitionCount.
    private const int PartitionCount = 4;

    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var jobs = args.GetInt("jobs", 200);
        var timeScale = args.GetDouble("time-scale", 0.01);
        var counts = args.Get("processes", "1,3").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList();
        var kill = args.Get("kill", "true") == "true";
        var timeout = TimeSpan.FromSeconds(args.GetInt("timeout-seconds", 600));
        var serveDll = RepoPaths.Combine("src", "ImageJobs.Local", "bin", "Release", "net10.0", "ImageJobs.Local.dll");
        if (!File.Exists(serveDll))
        {
            Console.Error.WriteLine($"{serveDll} is not built: run the benchmark with -c Release.");
            return 2;
        }

        var executable = AzuriteProcess.Find(RepoPaths.Root)
            ?? throw new InvalidOperationException($"Azurite is not installed under {RepoPaths.Root}. Run 'npm ci' at the repository root.");
        await using var azurite = await AzuriteProcess.StartAsync(executable);
        var report = new Report("scaleout");
        report.Add("jobs", jobs);
        report.Add("time_scale", timeScale, "", "rate windows scaled too");
        var failed = 0;
        foreach (var n in counts)
        {
            failed += await RunOnceAsync(n, kill && n > 1, jobs, timeScale, timeout, serveDll, azurite, report);
        }

        report.Print();
        return failed == 0 ? 0 : 1;
    }

    private static async Task<int> RunOnceAsync(int processes, bool kill, int jobs, double timeScale, TimeSpan timeout, string serveDll,
        AzuriteProcess azurite, Report report)
    {
        var p = $"p{processes}";
        await using var emulator = await DashScopeEmulator.StartAsync(new DashScopeEmulatorOptions
        {
            TimeScale = timeScale, ApiKey = ApiKey, Seed = 1, EnableLimits = true, ScaleRateWindows = true,
        });
        var hub = $"ScaleOut{processes}x" + Guid.NewGuid().ToString("N")[..8];
        var port = FreePort.Next();
        var scale = timeScale.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { serveDll, "serve", "--instances", processes.ToString(CultureInfo.InvariantCulture), "--urls", Url(port), "--root", RepoPaths.Root },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["DashScope__Endpoint"] = emulator.BaseAddress.AbsoluteUri,
                ["DashScope__ApiKey"] = ApiKey,
                ["ImageJobs__ResultHosts__0"] = emulator.RootAddress.Authority,
                ["ImageJobs__Outbound__AllowedHosts__0"] = emulator.RootAddress.Authority,
                ["ImageJobs__ExpectedDurationScale"] = scale,
                ["ImageJobs__RateWindowScale"] = scale,
                ["IMAGEJOBS_FUNCTION_KEY"] = FunctionKey,
                ["AzureFunctionsJobHost__extensions__durableTask__hubName"] = hub,
            },
        };
        var log = new StringBuilder();
        using var serve = Process.Start(start)!;
        serve.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        serve.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        serve.BeginOutputReadLine();
        serve.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
        try
        {
            // Every instance listening, with its pid (the first instance is the serve process itself).
            var pids = new Dictionary<int, int> { [1] = serve.Id };
            await WaitForAsync(async () =>
            {
                foreach (Match m in InstanceLines().Matches(Snapshot(log)))
                {
                    pids[int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture)] = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
                }

                if (serve.HasExited)
                {
                    throw new InvalidOperationException($"serve exited ({serve.ExitCode}):\n{Snapshot(log)}");
                }

                return pids.Count == processes && await AllReadyAsync(http, port, processes);
            }, TimeSpan.FromMinutes(3), "every instance to listen");
            var cpuAtStart = pids.ToDictionary(x => x.Key, x => ProcessCpu.Seconds(x.Value));

            // 200 jobs, models round-robin, instances round-robin.
            var bodies = ModelJobs.Bodies;
            var ids = Enumerable.Range(0, jobs).Select(i => (Id: $"so-{i:D3}-{Guid.NewGuid():N}"[..20], Model: bodies[i % bodies.Count].Model, Body: bodies[i % bodies.Count].Body)).ToList();
            var clock = Stopwatch.StartNew();
            var startedAt = DateTimeOffset.UtcNow;
            await Parallel.ForEachAsync(ids.Select((j, i) => (j, i)), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (x, ct) =>
            {
                var node = JsonNode.Parse(x.j.Body)!.AsObject();
                node["jobId"] = x.j.Id;
                using var response = await http.PostAsync(new Uri($"{Url(port + (x.i % processes))}/api/jobs"), JsonContent.Create(node), ct);
                response.EnsureSuccessStatusCode();
            });
            var postSeconds = clock.Elapsed.TotalSeconds;

            var instances = new TableClient(azurite.ConnectionString, hub + "Instances");
            var partitions = new TableClient(azurite.ConnectionString, hub + "Partitions");
            double? partitionsMoved = null, resumed = null, killedAfter = null;
            var cpuAtKill = new Dictionary<int, double>();
            DateTimeOffset killedAt = default;
            HashSet<int> deadPartitions = [];
            List<string> orphans = [];
            Dictionary<string, (string Status, DateTimeOffset Updated)> rows;
            var deadline = DateTime.UtcNow + timeout;
            var lastProgress = TimeSpan.Zero;
            while (true)
            {
                rows = await RowsAsync(instances);
                var now = emulator.Stats.Snapshot();
                if (kill && killedAfter is null && now.Accepted >= jobs / 3)
                {
                    // SIGKILL the last instance: its partition leases must expire before the others take its jobs.
                    var victim = pids[processes];
                    var worker = LocalRecovery.WorkerIdOf(victim);
                    deadPartitions = (await OwnersAsync(partitions)).Where(o => o.Value == worker).Select(o => o.Key).ToHashSet();
                    orphans = ids.Select(j => j.Id).Where(id => !(rows.TryGetValue(id, out var r) && r.Status == "Completed") && deadPartitions.Contains(TaskHubPartitions.Of(id, PartitionCount))).ToList();
                    cpuAtKill[processes] = ProcessCpu.Seconds(victim);
                    Process.GetProcessById(victim).Kill();
                    killedAt = DateTimeOffset.UtcNow;
                    killedAfter = clock.Elapsed.TotalSeconds;
                    Console.WriteLine($"  {clock.Elapsed.TotalSeconds,6:F1}s  killed instance {processes} (pid {victim}) holding partitions "
                        + $"[{string.Join(",", deadPartitions.Order())}] with {orphans.Count} unfinished jobs in them; {now.Accepted} submits accepted");
                }

                if (killedAfter is not null && partitionsMoved is null && deadPartitions.Count > 0)
                {
                    var owners = await OwnersAsync(partitions);
                    var dead = LocalRecovery.WorkerIdOf(pids[processes]);
                    if (deadPartitions.All(d => owners.TryGetValue(d, out var o) && o is not null && o != dead))
                    {
                        partitionsMoved = (DateTimeOffset.UtcNow - killedAt).TotalSeconds;
                    }
                }

                if (killedAfter is not null && resumed is null && orphans.Any(id => rows.TryGetValue(id, out var r) && r.Updated > killedAt))
                {
                    resumed = (DateTimeOffset.UtcNow - killedAt).TotalSeconds;
                }

                var done = ids.Count(j => rows.TryGetValue(j.Id, out var r) && r.Status is "Completed" or "Failed" or "Terminated");
                if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(5))
                {
                    lastProgress = clock.Elapsed;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {clock.Elapsed.TotalSeconds,6:F1}s  {processes} process(es): done {done}/{jobs}  accepted {now.Accepted}  queries {now.Queries}  throttled {now.Throttled}"));
                }

                if (done == jobs || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(kill && resumed is null ? 250 : 1000);
            }

            var wall = clock.Elapsed.TotalSeconds;
            var stats = emulator.Stats.Snapshot();
            var completed = ids.Where(j => rows.TryGetValue(j.Id, out var r) && r.Status == "Completed").ToList();
            var makespan = completed.Count == 0 ? double.NaN : (completed.Max(j => rows[j.Id].Updated) - startedAt).TotalSeconds;

            // The provider-limit ideal: per model, jobs × mean task time / concurrent tasks; the slowest model bounds it.
            var tasks = await ListProviderTasksAsync(emulator);
            var ideal = bodies.Select(b =>
            {
                var durations = tasks.Where(t => t.Model == b.Model).Select(t => (t.End - t.Start).TotalSeconds).ToList();
                var perModel = ids.Count(j => j.Model == b.Model);
                return durations.Count == 0 ? 0 : perModel * durations.Average() / DashScopeModels.GetProfile(b.Model).MaxConcurrentTasks;
            }).Max();

            report.Add($"{p}.processes", processes);
            report.Add($"{p}.post_s", postSeconds, "s", $"{jobs} POSTs, 16 in flight");
            report.Add($"{p}.completed_jobs", completed.Count, "", jobs.ToString(CultureInfo.InvariantCulture));
            report.Add($"{p}.makespan_s", makespan, "s", "first POST → last job completed");
            report.Add($"{p}.ideal_s", ideal, "s", "provider limits: jobs × task time / concurrency, slowest model");
            report.Add($"{p}.utilization_pct", 100 * ideal / makespan, "%", processes > 1 ? ">= 95" : "");
            report.Add($"{p}.accepted", stats.Accepted, "", jobs.ToString(CultureInfo.InvariantCulture));
            report.Add($"{p}.throttled", stats.Throttled, "", "0");
            report.Add($"{p}.throttled_submits", stats.ThrottledByKind.GetValueOrDefault("submit_rps"), "", "0");
            report.Add($"{p}.queries_per_job", stats.Queries / (double)jobs);
            foreach (var (n, pid) in pids.OrderBy(x => x.Key))
            {
                var used = (cpuAtKill.TryGetValue(n, out var atKill) ? atKill : ProcessCpu.Seconds(pid)) - cpuAtStart[n];
                var alive = cpuAtKill.ContainsKey(n) ? killedAfter!.Value : wall;
                report.Add($"{p}.cpu.instance{n}_cores", used / alive, "cores", cpuAtKill.ContainsKey(n) ? "until it was killed" : "");
            }

            if (kill)
            {
                report.Add($"{p}.killed_at_s", killedAfter ?? double.NaN, "s", "instance " + processes.ToString(CultureInfo.InvariantCulture));
                report.Add($"{p}.orphaned_jobs", orphans.Count, "", "unfinished jobs in the killed instance's partitions");
                report.Add($"{p}.takeover_partitions_s", partitionsMoved ?? double.NaN, "s", "SIGKILL → all its partitions held by survivors");
                report.Add($"{p}.takeover_s", resumed ?? double.NaN, "s", "<= 10 (SIGKILL → a survivor runs the next step of one of its jobs)");
            }

            return completed.Count == jobs ? 0 : 1;
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            await serve.WaitForExitAsync();
            var saved = Path.Combine(Path.GetTempPath(), $"imagejobs-{hub}.log");
            await File.WriteAllTextAsync(saved, Snapshot(log));
            Console.WriteLine($"  serve's output: {saved}");
        }
    }

    private static string Url(int port) => $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";

    private static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static async Task<bool> AllReadyAsync(HttpClient http, int port, int processes)
    {
        for (var i = 0; i < processes; i++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"{Url(port + i)}/api/jobs?top=1"));
                if (!response.IsSuccessStatusCode)
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(250);
        }
    }

    private static async Task<Dictionary<string, (string Status, DateTimeOffset Updated)>> RowsAsync(TableClient instances)
    {
        var rows = new Dictionary<string, (string, DateTimeOffset)>(StringComparer.Ordinal);
        try
        {
            await foreach (var row in instances.QueryAsync<TableEntity>(select: ["PartitionKey", "RuntimeStatus", "LastUpdatedTime"]))
            {
                rows[row.PartitionKey] = (row.GetString("RuntimeStatus") ?? "", row.GetDateTimeOffset("LastUpdatedTime") ?? DateTimeOffset.MinValue);
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return rows;
    }

    private static async Task<Dictionary<int, string?>> OwnersAsync(TableClient partitions)
    {
        var owners = new Dictionary<int, string?>();
        try
        {
            await foreach (var row in partitions.QueryAsync<TableEntity>())
            {
                owners[int.Parse(row.RowKey[^2..], CultureInfo.InvariantCulture)] = row.GetString("CurrentOwner");
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return owners;
    }

    private static async Task<List<(string Model, DateTimeOffset Start, DateTimeOffset End)>> ListProviderTasksAsync(DashScopeEmulatorHost emulator)
    {
        var api = new DashScopeClient(new DashScopeClientOptions { Endpoint = emulator.BaseAddress, ApiKey = ApiKey });
        var tasks = new List<(string, DateTimeOffset, DateTimeOffset)>();
        for (var page = 1; ; page++)
        {
            var list = await api.ListTasksAsync(new DashScopeTaskListQuery { PageNo = page, PageSize = 100 });
            tasks.AddRange(list.Tasks.Where(t => t.StartTime is not null && t.EndTime is not null).Select(t => (t.ModelName!, t.StartTime!.Value, t.EndTime!.Value)));
            if (list.Tasks.Count < 100)
            {
                return tasks;
            }
        }
    }

    [GeneratedRegex(@"^(\[instance [0-9]+\] )?\s*instance (?<n>[0-9]+): \S+ \(pid (?<pid>[0-9]+)", RegexOptions.Multiline)]
    private static partial Regex InstanceLines();
}
