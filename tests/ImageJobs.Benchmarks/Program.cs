using ImageJobs.Benchmarks;

// One subcommand per benchmark class; each prints a table and one JSON line.
return args.Length == 0 ? Usage() : args[0] switch
{
    "overhead" => await PipelineBenchmarks.OverheadAsync(BenchmarkArgs.Parse(args[1..])),
    "floor" => await FloorBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    "longwait" => await LongWaitBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    "restart" => await RestartBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    "polls" => await PollsBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    "polls-sim" => PollsSimulation.Run(BenchmarkArgs.Parse(args[1..])),
    "throughput" => await PipelineBenchmarks.ThroughputAsync(BenchmarkArgs.Parse(args[1..])),
    "scale" => await ScaleBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    "scaleout" => await ScaleOutBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project tests/ImageJobs.Benchmarks -- <benchmark> [options]

        Every benchmark except polls-sim runs on the real runtime: a private Azurite, the emulator, and the local app
        (the Durable Task Framework's TaskHubWorker over its Azure Storage provider, running the Microsoft.DurableTask
        tasks through the shims) with host.json's durableTask settings, and prints the settings it ran with.

          overhead    SUCCEEDED seen (DetectedAt) -> 4 images of 1024x1024 in blob + webhook, queue and completion
                      (median, p95), at time scale 0.01; beside it the floor: the same shape of no-op activities
                      (4 in parallel, 1, 2 in parallel) from the first episode to completion, and the ratio
                      --jobs N              (default 30, after 2 warm-up jobs)
                      --dump-history true   print the last job's and floor's history rows (Azure Storage History table)
          floor       N floor orchestrations at once (4 parallel no-op activities, then 1, then 2): the engine alone,
                      makespan, CPU per orchestration (this process, Azurite), episodes per second, peak RSS
                      --jobs N (default 200)  --start-parallelism N (default 16)
          longwait    one wanx-v1 job polled back to back (the app told the provider's clock runs 1 000x faster):
                      polls, executions (continue-as-new every 50 polls), the instance's History rows at the end
                      --time-scale X        the emulator's (default 2: a task of about a minute, ~500 polls)
          restart     serve as a process with nothing configured (its own Azurite and emulator, kept in a fresh app
                      root), N jobs submitted, then SIGKILL (or SIGTERM, timing the stop) and serve again on the same
                      root: completed, paid, restart -> first resumed poll, restart -> all done
                      --jobs N (default 50)  --signal kill|term (default kill)  --time-scale X (default 0.25)
          polls       jobs end to end per model family (wanx-v1, wanx2.1-imageedit, wan2.5-i2i-preview,
                      qwen-image-plus), as many at once per model as the provider runs: polls per job (the emulator's
                      queries_by_task), detection lag (task end_time -> DetectedAt) vs max(1.5 s, 10 % of task time),
                      beside the SDKs' wait() and the app's schedule on ideal timers for the same task durations
                      --jobs N              per model (default 20)
                      --time-scale X        (default 0.05)
                      --rate-windows real|scaled  (default real: lag in wall seconds, the app's MinLag stays 1.5 s;
                                            scaled: everything in service seconds = wall / time scale)
          polls-sim   the poll schedule vs the SDKs' wait() on task durations drawn from each model's documented
                      range, pure simulation (no runtime)
                      --jobs N              durations per model (default 1000)   --seed N (default 1)
          throughput  200 jobs (50 per model family) against the emulator, real per-model limits
                      --jobs N (default 200)  --time-scale X (default 0.01)  --start-parallelism N (default 16)
                      --timeout-seconds S   jobs not done by then are reported as unfinished (default 600)
                      --rate-windows scaled|real  (default scaled: RPS/QPS per service second, i.e. the real service
                                            sped up in every respect; real: limits per real second)
                      --dump-history true   print the first job's history rows (Azure Storage History table)
          scale       N orchestrations waiting on one durable timer each: start rate, peak RSS, timer lag
                      --scale N             (default 10000)
                      --timer-seconds S     every timer falls due S s after the first start (default 60 + N/40)
                      --start-parallelism N starts in flight (default 48)
          scaleout    1 vs N serve processes (serve --instances N, one Azurite, one task hub) x 200 jobs posted
                      round-robin, emulator at a time scale with scaled rate windows: makespan and utilization
                      against the provider-limit ideal, throttled submits, queries per job, CPU per process; with
                      N > 1 the last instance is SIGKILLed once a third of the jobs are submitted, and the takeover
                      is timed (SIGKILL -> survivors hold its partitions, and run the next step of one of its jobs)
                      --processes 1,3 (default)  --jobs N (default 200)  --time-scale X (default 0.01)
                      --kill true|false (default true)  --timeout-seconds S (default 600)

        """ + RuntimeKnobs.Usage);
    return 2;
}
