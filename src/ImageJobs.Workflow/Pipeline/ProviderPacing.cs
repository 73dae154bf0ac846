using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using ImageJobs.DashScope;

namespace ImageJobs.Workflow.Pipeline;

/// <summary>
/// Paces this process's calls to DashScope under the documented limits, so jobs wait their turn instead of collecting
/// 429s, each at <see cref="Headroom"/> of the limit and without bursts:
/// <list type="bullet">
/// <item>Submits per model (<see cref="DashScopeModelProfile.SubmitRequestsPerSecond"/>) by reservation: a job gets the
/// next free slot of its model; a slot further away than <see cref="MaxInlineWait"/> is handed back to the orchestration,
/// which waits for it on a durable timer (holding no activity slot) and then submits at once.</item>
/// <item>Task queries for the whole account (<see cref="DashScopeModels.TaskQueryRequestsPerSecond"/>), waited for
/// inline (the poll schedule already spreads polls to fit).</item>
/// </list>
/// Several processes (Functions scale-out) still share the account: the 429s they cause are retried as before.
/// Against an emulator whose rate windows are scaled, every interval is scaled by <see cref="ImageJobsOptions.RateWindowScale"/>.
/// </summary>
public sealed class ProviderPacing : IDisposable
{
    /// <summary>The share of each limit used.</summary>
    public const double Headroom = 0.8;

    /// <summary>The longest an activity waits in place for its submit slot.</summary>
    public static readonly TimeSpan MaxInlineWait = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MinPeriod = TimeSpan.FromMilliseconds(10);
    private readonly ConcurrentDictionary<string, SlotClock> _submits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _gates = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly double _windowScale;
    private readonly TokenBucketRateLimiter _queries;

    /// <summary>
    /// Paces under DashScope's limits, counted over windows of <see cref="ImageJobsOptions.RateWindowScale"/> seconds
    /// (one second without <paramref name="options"/>).
    /// </summary>
    public ProviderPacing(TimeProvider time, ImageJobsOptions? options = null)
    {
        _time = time;
        _windowScale = options?.RateWindowScale ?? 1.0;
        _queries = Bucket(DashScopeModels.TaskQueryRequestsPerSecond);
    }

    /// <summary>
    /// Reserves the next submit slot of <paramref name="model"/>, or confirms <paramref name="reserved"/> when that slot
    /// is due. Returns when the slot is (the caller submits then, waiting inline only up to <see cref="MaxInlineWait"/>).
    /// </summary>
    public DateTimeOffset ReserveSubmit(string model, DateTimeOffset? reserved)
    {
        var now = _time.GetUtcNow();
        if (reserved is { } slot && slot <= now + MaxInlineWait)
        {
            return slot;
        }

        var clock = _submits.GetOrAdd(model, m => new SlotClock(Interval(SubmitRate(m))));
        return clock.Next(now);
    }

    /// <summary>
    /// Waits at the model's gate right before the submit call: jobs whose timers fired late (and so arrive together)
    /// still go out one interval apart.
    /// </summary>
    public ValueTask<RateLimitLease> SubmitGateAsync(string model, CancellationToken cancellationToken) =>
        _gates.GetOrAdd(model, m => Bucket(SubmitRate(m)))
            .AcquireAsync(1, cancellationToken);

    /// <summary>Waits for a task-query slot.</summary>
    public ValueTask<RateLimitLease> QueryAsync(CancellationToken cancellationToken) => _queries.AcquireAsync(1, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _queries.Dispose();
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }

    private static int SubmitRate(string model) => DashScopeModels.TryGetProfile(model, out var p) ? p.SubmitRequestsPerSecond : 1;

    private TimeSpan Interval(int perSecond) => TimeSpan.FromSeconds(_windowScale / (perSecond * Headroom));

    private TokenBucketRateLimiter Bucket(int perSecond)
    {
        // Timers tick in whole milliseconds, so a scaled interval below MinPeriod becomes several tokens per MinPeriod
        // (half the period's share: a burst right before and right after a refill still fits one window).
        var interval = Interval(perSecond);
        var (period, tokens) = interval >= MinPeriod ? (interval, 1) : (MinPeriod, Math.Max(1, (int)(MinPeriod / interval / 2)));
        return new(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    private sealed class SlotClock(TimeSpan interval)
    {
        private DateTimeOffset _last = DateTimeOffset.MinValue;

        public DateTimeOffset Next(DateTimeOffset now)
        {
            lock (this)
            {
                _last = _last == DateTimeOffset.MinValue || _last + interval < now ? now : _last + interval;
                return _last;
            }
        }
    }
}
