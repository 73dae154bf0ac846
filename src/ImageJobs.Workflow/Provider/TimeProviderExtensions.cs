namespace ImageJobs.Workflow.Provider;

/// <summary>Waiting for a point in time on a <see cref="TimeProvider"/>.</summary>
public static class TimeProviderExtensions
{
    /// <summary>
    /// Returns once <paramref name="time"/> reads <paramref name="at"/> or later (at once if it already does). A timer can
    /// end a millisecond before the clock it was computed from says it should, so this waits again for what is left, in
    /// whole milliseconds.
    /// </summary>
    public static async Task DelayUntilAsync(this TimeProvider time, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        for (var wait = at - time.GetUtcNow(); wait > TimeSpan.Zero; wait = at - time.GetUtcNow())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), time, cancellationToken);
        }
    }
}
