namespace ImageJobs.DashScope.Emulator;

/// <summary>The emulator's shared state: options, clock, tasks, limits, signer, counters and the seeded random source.</summary>
internal sealed class EmulatorContext
{
    private readonly Random _random;

    public EmulatorContext(DashScopeEmulatorOptions options, TimeProvider time)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid DashScope emulator options: " + string.Join(" ", errors), nameof(options));
        }

        Options = options.Clone();
        Clock = new EmulatorClock(time, Options.TimeScale);
        Store = new TaskStore(Clock, Options.TaskTtl);
        Limiter = new RateLimiter(Options.ScaleRateWindows ? Clock.Scale(TimeSpan.FromSeconds(1)) : TimeSpan.FromSeconds(1));
#pragma warning disable CA5394 // Not security: a seeded source makes fault injection and latencies repeatable.
        _random = Options.Seed is { } seed ? new Random(seed) : new Random();
#pragma warning restore CA5394
    }

    public DashScopeEmulatorOptions Options { get; }

    public EmulatorClock Clock { get; }

    public TaskStore Store { get; }

    public EmulatorStats Stats { get; } = new();

    public RateLimiter Limiter { get; }

    public UrlSigner Signer { get; } = new();

    public UploadStore Uploads { get; } = new();

    /// <summary>The next value in [0, 1) from the seeded source (thread-safe).</summary>
    public double NextDouble()
    {
        lock (_random)
        {
#pragma warning disable CA5394 // Not security.
            return _random.NextDouble();
#pragma warning restore CA5394
        }
    }

    /// <summary>True with probability <paramref name="rate"/>; always draws, so the sequence does not depend on the rates.</summary>
    public bool Chance(double rate) => NextDouble() < rate;

    /// <summary>A model's concurrent-task cap after <see cref="DashScopeEmulatorOptions.LimitScale"/> (unlimited when limits are off).</summary>
    public int MaxConcurrent(string model) =>
        Options.EnableLimits && ModelRules.Find(model) is { } rule ? Scaled(rule.MaxConcurrent) : int.MaxValue;

    /// <summary>A limit after <see cref="DashScopeEmulatorOptions.LimitScale"/>, at least 1.</summary>
    public int Scaled(int limit) => Math.Max(1, (int)Math.Round(limit * Options.LimitScale));
}
