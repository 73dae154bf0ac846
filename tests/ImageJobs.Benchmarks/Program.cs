using ImageJobs.Benchmarks;

// One subcommand per benchmark class; add new ones (polls, overhead, throughput…) to the switch.
return args.Length == 0 ? Usage() : args[0] switch
{
    "engine" => await EngineBenchmark.RunAsync(BenchmarkArgs.Parse(args[1..])),
    "polls" => PollsBenchmark.Run(BenchmarkArgs.Parse(args[1..])),
    "overhead" => await PipelineBenchmarks.OverheadAsync(BenchmarkArgs.Parse(args[1..])),
    "throughput" => await PipelineBenchmarks.ThroughputAsync(BenchmarkArgs.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project tests/ImageJobs.Benchmarks -- <benchmark> [options]

          engine   embedded durable engine: waiting timers (RSS, start time, timer lag) and activity throughput/latency
                   --store memory|blob   (default memory; blob starts a private Azurite)
                   --scale N             waiting orchestrations (default 10000; the throughput phase runs N/10)
                   --timer-seconds S     timer length in the waiting phase (default 60)
                   --orchestrators N     maxConcurrentOrchestratorFunctions (default 8; blob 32)
                   --activities N        maxConcurrentActivityFunctions (default 32; blob 64)
                   --scan-seconds S      the engine's hub scan interval (maxQueuePollingInterval, default 10)
          polls    poll schedule vs the SDKs' wait() on task durations from each model's documented range
                   --jobs N              durations per model (default 1000)   --seed N (default 1)
          overhead SUCCEEDED seen -> 4 images of 1024x1024 in blob + webhook, queue and completion (median, p95)
                   --jobs N              (default 30)
          throughput  200 jobs (50 per model family) against the emulator, real per-model limits
                   --jobs N (default 200)  --time-scale X (default 0.01)
                   --rate-windows scaled|real  (default scaled: RPS/QPS per service second, i.e. the real service
                                         sped up in every respect; real: limits per real second)
        """);
    return 2;
}
