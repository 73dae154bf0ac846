namespace ImageJobs.Workflow.Durable;

/// <summary>
/// How a failed activity is retried; mirrors <c>Microsoft.DurableTask.RetryPolicy</c>. The wait before attempt
/// <c>n + 1</c> is <c>FirstRetryInterval × BackoffCoefficient^(n − 1)</c>, capped at <see cref="MaxRetryInterval"/>;
/// waits are durable timers.
/// </summary>
public sealed class ActivityRetryPolicy
{
    /// <summary>Creates a retry policy.</summary>
    /// <param name="maxNumberOfAttempts">Total attempts including the first (≥ 1).</param>
    /// <param name="firstRetryInterval">The wait before the second attempt (&gt; 0).</param>
    /// <param name="backoffCoefficient">The growth factor of the wait (≥ 1).</param>
    /// <param name="maxRetryInterval">The longest single wait; one hour when omitted, like Durable.</param>
    /// <param name="retryTimeout">Give up once this much time has passed since the first attempt; unlimited when omitted.</param>
    public ActivityRetryPolicy(
        int maxNumberOfAttempts,
        TimeSpan firstRetryInterval,
        double backoffCoefficient = 1.0,
        TimeSpan? maxRetryInterval = null,
        TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNumberOfAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    /// <summary>Total attempts including the first.</summary>
    public int MaxNumberOfAttempts { get; }

    /// <summary>The wait before the second attempt.</summary>
    public TimeSpan FirstRetryInterval { get; }

    /// <summary>The growth factor of the wait.</summary>
    public double BackoffCoefficient { get; }

    /// <summary>The longest single wait.</summary>
    public TimeSpan MaxRetryInterval { get; }

    /// <summary>The overall retry budget, or <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>Decides whether a failure is retried (all failures when <see langword="null"/>).</summary>
    public Func<OrchestrationFailureDetails, bool>? HandleFailure { get; init; }

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based), before the next one.</summary>
    /// <param name="attempt">The number of the attempt that just failed.</param>
    public TimeSpan GetRetryDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var ticks = FirstRetryInterval.Ticks * Math.Pow(BackoffCoefficient, attempt - 1);
        return ticks >= MaxRetryInterval.Ticks ? MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}
