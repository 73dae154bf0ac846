using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// The emulator's shared state: options, clock, tasks, limits, signer, counters and the seeded random source. With a
/// <see cref="DashScopeEmulatorOptions.DataFolder"/>, it reads the state an earlier run left there when it is created,
/// and writes the counters and upload policies once a second when they changed, and when it is disposed.
/// </summary>
internal sealed class EmulatorContext : IDisposable
{
    /// <summary>How often the counters and upload policies are written when they changed (tasks and uploads are written at once).</summary>
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly Random _random;
    private readonly Lock _flushLock = new();
    private readonly HostRecord? _host;
    private readonly PeriodicTimer? _flushTimer;
    private long _flushedStats;
    private int _flushedPolicies;
    private bool _disposed;

    public EmulatorContext(DashScopeEmulatorOptions options, TimeProvider time, ILogger? logger = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid DashScope emulator options: " + string.Join(" ", errors), nameof(options));
        }

        Options = options.Clone();
        Clock = new EmulatorClock(time, Options.TimeScale);
        Limiter = new RateLimiter(Options.ScaleRateWindows ? Clock.Scale(TimeSpan.FromSeconds(1)) : TimeSpan.FromSeconds(1));
#pragma warning disable CA5394 // Not security: a seeded source makes fault injection and latencies repeatable.
        _random = Options.Seed is { } seed ? new Random(seed) : new Random();
#pragma warning restore CA5394
        logger ??= NullLogger.Instance;
        Data = string.IsNullOrWhiteSpace(Options.DataFolder) ? null : EmulatorDataFolder.TryOpen(Options.DataFolder, logger);
        if (Data is null)
        {
            Store = new TaskStore(Clock, Options.TaskTtl);
            Signer = new UrlSigner();
            Uploads = new UploadStore();
            return;
        }

        try
        {
            _host = Data.LoadHost();
            Store = new TaskStore(Clock, Options.TaskTtl, Data);
            Signer = new UrlSigner(Convert.FromBase64String(_host.ResultUrlSecret));
            Uploads = new UploadStore(Convert.FromBase64String(_host.UploadSecret), Data);
            Restored = Restore(logger);
        }
        catch
        {
            Data.Dispose(); // releases the folder: the start fails (the folder cannot be written), and may be tried again
            throw;
        }

        _flushedStats = Stats.Version();
        _flushedPolicies = Uploads.PoliciesIssued;
        _flushTimer = new PeriodicTimer(FlushInterval, time);
        _ = FlushPeriodicallyAsync(_flushTimer);
    }

    public DashScopeEmulatorOptions Options { get; }

    public EmulatorClock Clock { get; }

    public TaskStore Store { get; }

    public EmulatorStats Stats { get; } = new();

    public RateLimiter Limiter { get; }

    public UrlSigner Signer { get; }

    public UploadStore Uploads { get; }

    /// <summary>The data folder, when the state is kept there (null also when another emulator holds the folder).</summary>
    public EmulatorDataFolder? Data { get; }

    /// <summary>What was read back from the data folder at start; null without one.</summary>
    public EmulatorDataSummary? Restored { get; }

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

    /// <summary>Records the port an emulator started by <see cref="DashScopeEmulator"/> listens on, for its next start.</summary>
    public void RecordPort(int port)
    {
        if (Data is not null && _host is not null)
        {
            Data.RecordPort(_host, port);
        }
    }

    /// <summary>Writes the counters and upload policies if they changed since they were last written.</summary>
    public void Flush()
    {
        lock (_flushLock)
        {
            if (!_disposed)
            {
                FlushChanges();
            }
        }
    }

    /// <summary>Stops the periodic writes, writes what changed since the last one, and releases the data folder.</summary>
    public void Dispose()
    {
        _flushTimer?.Dispose();
        lock (_flushLock)
        {
            if (_disposed)
            {
                return;
            }

            FlushChanges();
            _disposed = true;
        }

        Data?.Dispose();
    }

    private void FlushChanges()
    {
        if (Data is null)
        {
            return;
        }

        var stats = Stats.Version();
        if (stats != _flushedStats)
        {
            Data.SaveStats(Stats.Snapshot());
            _flushedStats = stats;
        }

        var policies = Uploads.PoliciesIssued;
        if (policies != _flushedPolicies)
        {
            Data.SavePolicies(Uploads.LivePolicies(Clock.Now));
            _flushedPolicies = policies;
        }
    }

    private EmulatorDataSummary Restore(ILogger logger)
    {
        var data = Data!;
        var now = Clock.Now;
        var records = data.LoadTasks(r => now - r.SubmitTime >= Clock.Scale(Options.TaskTtl), out var expiredTasks);
        var tasks = records.Select(r => (Task: r.ToTask(), r.CanceledTime)).ToList();
        Store.Restore(tasks, MaxConcurrent);
        foreach (var (task, _) in tasks)
        {
            if (task.StatusAt(now) is TaskStatus.Pending or TaskStatus.Running)
            {
                task.PrerenderInBackground(); // finished tasks paint on their first download, identically
            }
        }

        var uploads = data.LoadUploads(u => now - u.UploadedAt > Clock.Scale(Options.UploadTtl), out var expiredUploads);
        Uploads.Restore(uploads, data.LoadPolicies().Where(p => p.ExpiresAt >= now));
        if (data.LoadStats() is { } stats)
        {
            Stats.Restore(stats, tasks.Select(t => t.Task.Id).ToHashSet(StringComparer.Ordinal));
        }

        Log.DataRestored(logger, data.FullPath, tasks.Count, uploads.Count, expiredTasks + expiredUploads, data.Skipped.Count);
        return new EmulatorDataSummary(data.FullPath, tasks.Count, uploads.Count, expiredTasks + expiredUploads, [.. data.Skipped]);
    }

    private async Task FlushPeriodicallyAsync(PeriodicTimer timer)
    {
        while (await timer.WaitForNextTickAsync())
        {
            Flush();
        }
    }
}
