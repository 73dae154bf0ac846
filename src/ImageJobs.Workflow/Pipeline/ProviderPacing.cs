using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using ImageJobs.DashScope;

namespace ImageJobs.Workflow.Pipeline;

/// <summary>
/// Paces this process's calls to DashScope under the documented limits, so jobs wait their turn instead of collecting
/// 429s: submits per model (<see cref="DashScopeModelProfile.SubmitRequestsPerSecond"/>) and task queries for the
/// whole account (<see cref="DashScopeModels.TaskQueryRequestsPerSecond"/>), each at <see cref="Headroom"/> of the
/// limit and without bursts. Several processes (Functions scale-out) still share the account: the 429s they cause
/// are retried as before.
/// </summary>
public sealed class ProviderPacing : IDisposable
{
    /// <summary>The share of each limit used.</summary>
    public const double Headroom = 0.8;

    private readonly ConcurrentDictionary<string, RateLimiter> _submits = new(StringComparer.Ordinal);
    private readonly RateLimiter _queries = Create(DashScopeModels.TaskQueryRequestsPerSecond);

    /// <summary>Waits for a submit slot of <paramref name="model"/>.</summary>
    public ValueTask<RateLimitLease> SubmitAsync(string model, CancellationToken cancellationToken) =>
        _submits.GetOrAdd(model, static m => Create(DashScopeModels.TryGetProfile(m, out var p) ? p.SubmitRequestsPerSecond : 1))
            .AcquireAsync(1, cancellationToken);

    /// <summary>Waits for a task-query slot.</summary>
    public ValueTask<RateLimitLease> QueryAsync(CancellationToken cancellationToken) => _queries.AcquireAsync(1, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _queries.Dispose();
        foreach (var limiter in _submits.Values)
        {
            limiter.Dispose();
        }
    }

    private static TokenBucketRateLimiter Create(int perSecond) => new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = 1,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1 / (perSecond * Headroom)),
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });
}
