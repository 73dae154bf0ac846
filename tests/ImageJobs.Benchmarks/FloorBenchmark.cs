using System.Diagnostics;
using System.Globalization;
using Microsoft.DurableTask;

namespace ImageJobs.Benchmarks;

/// <summary>
/// <c>floor</c>: N floor orchestrations at once (<see cref="PipelineBenchmarks.AddFloor"/>: 4 parallel no-op activities,
/// then 1, then 2) on the real runtime, nothing else: what the engine itself costs. Reports the makespan, the CPU this
/// process and Azurite used per orchestration, episodes per second (episodes per orchestration sampled from 20
/// histories) and peak RSS.
/// </summary>
internal static class FloorBenchmark
{
    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var jobs = args.GetInt("jobs", 200);
        var parallelism = args.GetInt("start-parallelism", 16);
        await using var rig = await Rig.StartAsync(new RigOptions { Knobs = RuntimeKnobs.Parse(args), ConfigureTasks = PipelineBenchmarks.AddFloor });
        var cpuBefore = (Self: Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, Azurite: ProcessCpu.Seconds(rig.AzuriteProcessId));
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
            await rig.Client.ScheduleNewOrchestrationInstanceAsync(PipelineBenchmarks.FloorOrchestration, 0,
                new StartOrchestrationOptions(string.Create(CultureInfo.InvariantCulture, $"floor-{i:D6}")), ct));
        var started = clock.Elapsed.TotalSeconds;
        var ended = await Instances.WaitAllAsync(rig.Client, "floor-", jobs, TimeSpan.FromMinutes(20),
            n => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,6:F1}s  {n}/{jobs} done")));
        // The listing polls every 2 s: the last completion time is the makespan, not the moment the listing saw it.
        var first = ended.Values.Min(i => i.CreatedAt);
        var makespan = (ended.Values.Max(i => i.LastUpdatedAt) - first).TotalSeconds;
        var cpu = (Self: Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpuBefore.Self, Azurite: ProcessCpu.Seconds(rig.AzuriteProcessId) - cpuBefore.Azurite);

        var sample = ended.Keys.Order(StringComparer.Ordinal).Take(20).ToList();
        var episodes = 0;
        foreach (var id in sample)
        {
            episodes += (await History.ReadAsync(rig, id)).Count(e => e.Type == "OrchestratorStarted");
        }

        var episodesPerJob = sample.Count == 0 ? double.NaN : (double)episodes / sample.Count;
        var report = new Report("floor");
        report.Add("jobs", jobs);
        report.Add("completed", ended.Values.Count(i => i.RuntimeStatus == Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed), "", $"{jobs}");
        report.Add("starts_s", started, "s");
        report.Add("makespan_s", makespan, "s", "first created -> last completed");
        report.Add("cpu.this_process_ms_per_job", 1000 * cpu.Self / jobs, "ms", "app, engine, emulator, benchmark; target: <= 0.75 x the gRPC sidecar's (README)");
        report.Add("cpu.azurite_ms_per_job", 1000 * cpu.Azurite / jobs, "ms");
        report.Add("episodes_per_job", episodesPerJob, "", "sampled from 20 histories");
        report.Add("episodes_per_s", episodesPerJob * jobs / makespan, "/s");
        report.Add("peak_rss_mb", Report.PeakRssMegabytes(), "MB");
        rig.Describe(report);
        report.Print();
        return 0;
    }
}
