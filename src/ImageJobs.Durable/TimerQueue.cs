namespace ImageJobs.Durable;

/// <summary>
/// Every pending durable timer of the engine in one priority queue served by one loop: thousands of timers cost a
/// queue entry each, not a thread or an OS timer. Keys make scheduling idempotent.
/// </summary>
internal sealed class TimerQueue(TimeProvider time)
{
    private static readonly TimeSpan s_maxWait = TimeSpan.FromMinutes(1);
    private readonly PriorityQueue<(string Key, Action Callback), DateTime> _queue = new();
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Runs <paramref name="callback"/> at <paramref name="due"/> (at once if past), unless <paramref name="key"/> is already scheduled.</summary>
    public void Schedule(string key, DateTime due, Action callback)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            if (!_keys.Add(key))
            {
                return;
            }

            var earliest = _queue.TryPeek(out _, out var first) ? first : DateTime.MaxValue;
            _queue.Enqueue((key, callback), due);
            if (due < earliest)
            {
                wake = _wake;
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        wake?.TrySetResult();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var due = new List<Action>();
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            Task wake;
            lock (_gate)
            {
                var now = time.GetUtcNow().UtcDateTime;
                while (_queue.TryPeek(out var item, out var at) && at <= now)
                {
                    _queue.Dequeue();
                    _keys.Remove(item.Key);
                    due.Add(item.Callback);
                }

                wait = _queue.TryPeek(out _, out var next) ? next - now : s_maxWait;
                wake = _wake.Task;
            }

            if (due.Count > 0)
            {
                foreach (var callback in due)
                {
                    callback();
                }

                due.Clear();
                continue;
            }

            wait = wait > s_maxWait ? s_maxWait : wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
            using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(wait, time, delayCancel.Token);
            await Task.WhenAny(delay, wake);
            await delayCancel.CancelAsync();
        }
    }
}
