namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// Sliding one-second windows, one per key (a model's submits, or the account's task queries).
/// Windows use the emulator's <see cref="TimeProvider"/> in real, unscaled time: a limit of 2 RPS stays 2 RPS
/// at any time scale, because clients pace their requests in real seconds; with
/// <see cref="DashScopeEmulatorOptions.ScaleRateWindows"/> a window is one second of service time instead.
/// </summary>
internal sealed class RateLimiter(TimeSpan windowLength)
{
    private readonly Dictionary<string, Queue<DateTimeOffset>> _windows = new(StringComparer.Ordinal);

    /// <summary>Takes one permit for <paramref name="key"/> if fewer than <paramref name="limit"/> were taken in the last window.</summary>
    public bool TryAcquire(string key, int limit, DateTimeOffset now)
    {
        lock (_windows)
        {
            if (!_windows.TryGetValue(key, out var window))
            {
                window = new Queue<DateTimeOffset>();
                _windows[key] = window;
            }

            while (window.Count > 0 && now - window.Peek() >= windowLength)
            {
                window.Dequeue();
            }

            if (window.Count >= limit)
            {
                return false;
            }

            window.Enqueue(now);
            return true;
        }
    }
}
