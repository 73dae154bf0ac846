using System.Globalization;
using System.Text;

namespace ImageJobs.DashScope.Emulator;

/// <summary>Emulator time: the injected <see cref="TimeProvider"/>, and service durations multiplied by the time scale.</summary>
internal sealed class EmulatorClock(TimeProvider time, double scale)
{
    private static readonly TimeSpan ChinaStandardTime = TimeSpan.FromHours(8);

    public TimeProvider Time { get; } = time;

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>A service duration as it passes in the emulator.</summary>
    public TimeSpan Scale(TimeSpan serviceTime) => TimeSpan.FromTicks((long)(serviceTime.Ticks * scale));

    /// <summary>DashScope's task time format: <c>2025-01-08 16:03:59.840</c> in UTC+8.</summary>
    public static string Format(DateTimeOffset time) =>
        time.ToOffset(ChinaStandardTime).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
}

/// <summary>The task states DashScope reports.</summary>
internal static class TaskStatus
{
    public const string Pending = "PENDING";
    public const string Running = "RUNNING";
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";
    public const string Canceled = "CANCELED";
    public const string Unknown = "UNKNOWN";
}

/// <summary>
/// One task. Everything random is decided at submit (latency, seeds, which images fail), so the state at any moment is
/// a pure function of the timestamps: no thread or timer per task.
/// </summary>
internal sealed class EmulatorTask
{
    /// <summary>Rendered PNGs, held weakly: repeated downloads are cheap, yet thousands of finished tasks do not pin
    /// gigabytes (a collected image is simply painted again, identically).</summary>
    private readonly WeakReference<byte[]>?[] _images;
    private readonly Lock[] _imageLocks;
    private int _prerenderStarted;
    private long _scheduledTicks;
    private long _canceledTicks;

    public EmulatorTask(string id, string requestId, ModelRule model, TaskPlan plan, DateTimeOffset submitTime,
        TimeSpan runDuration, DashScopeError? failure, DashScopeError?[] imageFailures, int baseSeed, bool isSync)
    {
        Id = id;
        RequestId = requestId;
        Model = model;
        Plan = plan;
        SubmitTime = submitTime;
        RunDuration = runDuration;
        Failure = failure ?? plan.DeferredFailure ?? (imageFailures.All(f => f is not null) ? imageFailures[0] : null);
        ImageFailures = imageFailures;
        BaseSeed = baseSeed;
        IsSync = isSync;
        _images = new WeakReference<byte[]>?[plan.N];
        _imageLocks = [.. Enumerable.Range(0, plan.N).Select(_ => new Lock())];
    }

    public string Id { get; }

    /// <summary>The request id of the submit, shown by the task list.</summary>
    public string RequestId { get; }

    public ModelRule Model { get; }

    public TaskPlan Plan { get; }

    public DateTimeOffset SubmitTime { get; }

    public TimeSpan RunDuration { get; }

    /// <summary>Why the whole task fails (validation deferred to the task, injected fault, every image failed), or null.</summary>
    public DashScopeError? Failure { get; }

    /// <summary>Per image: null = generated, else the partial-failure entry.</summary>
    public IReadOnlyList<DashScopeError?> ImageFailures { get; }

    public int BaseSeed { get; }

    /// <summary>A sync multimodal call: not visible through the tasks API, only its image URL.</summary>
    public bool IsSync { get; }

    /// <summary>The order of the submit among the store's submits and cancels (set by the store, under its lock).</summary>
    public long Sequence { get; set; }

    /// <summary>The order of the cancel among the store's submits and cancels; 0 while not canceled.</summary>
    public long CancelSequence { get; set; }

    /// <summary>When RUNNING starts; null while waiting for a concurrency slot. Written once under the store's lock,
    /// read without it: kept as UTC ticks so a reader never sees a torn value.</summary>
    public DateTimeOffset? ScheduledTime
    {
        get => FromTicks(Volatile.Read(ref _scheduledTicks));
        set => Volatile.Write(ref _scheduledTicks, value?.UtcTicks ?? 0);
    }

    /// <summary>When the task was canceled (or dropped from its queue on expiry); null otherwise.</summary>
    public DateTimeOffset? CanceledTime
    {
        get => FromTicks(Volatile.Read(ref _canceledTicks));
        set => Volatile.Write(ref _canceledTicks, value?.UtcTicks ?? 0);
    }

    public DateTimeOffset? EndTime => ScheduledTime + RunDuration;

    public int SucceededImages => Failure is null ? ImageFailures.Count(f => f is null) : 0;

    public string StatusAt(DateTimeOffset now)
    {
        if (CanceledTime is not null)
        {
            return TaskStatus.Canceled;
        }

        if (ScheduledTime is not { } scheduled || now < scheduled)
        {
            return TaskStatus.Pending;
        }

        if (now < scheduled + RunDuration)
        {
            return TaskStatus.Running;
        }

        return Failure is null ? TaskStatus.Succeeded : TaskStatus.Failed;
    }

    /// <summary>The PNG of image <paramref name="index"/> (rendered once, then cached), or null if that image failed. Thread-safe.</summary>
    public byte[]? Image(int index)
    {
        if (index < 0 || index >= _images.Length || ImageFailures[index] is not null || Failure is not null)
        {
            return null;
        }

        // One lock per image: the downloads of one task's images render in parallel, as the service serves them.
        lock (_imageLocks[index])
        {
            if (_images[index] is { } cached && cached.TryGetTarget(out var png))
            {
                return png;
            }

            png = Render(index);
            _images[index] = new WeakReference<byte[]>(png);
            return png;
        }
    }

    /// <summary>Whether image <paramref name="index"/> is rendered and still cached (for tests).</summary>
    internal bool IsRendered(int index) => _images[index] is { } cached && cached.TryGetTarget(out _);

    /// <summary>
    /// Starts rendering every image that will succeed, in the background, once: called when the task is accepted. The
    /// service has stored its results by the time it reports SUCCEEDED; without this, the downloads right after would
    /// wait for a render the service never does, and finish one after another as the renders do.
    /// </summary>
    public void PrerenderInBackground()
    {
        if (Failure is not null || Interlocked.Exchange(ref _prerenderStarted, 1) != 0)
        {
            return;
        }

        for (var i = 0; i < _images.Length; i++)
        {
            var index = i;
            if (ImageFailures[index] is null)
            {
                _ = Task.Run(() => Image(index));
            }
        }
    }

    private static DateTimeOffset? FromTicks(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    private byte[] Render(int index)
    {
        // FNV-1a over seed, prompt and size: the same request and seed always paint the same picture.
        var hash = 14695981039346656037UL;
        var key = string.Create(CultureInfo.InvariantCulture, $"{BaseSeed + index}|{Plan.Prompt}|{Plan.Width}x{Plan.Height}");
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return PngEncoder.Paint(Plan.Width, Plan.Height, hash);
    }
}

/// <summary>
/// All tasks, and per model a FIFO of tasks waiting for one of the model's concurrent slots. Slots are simulated lazily:
/// on every access the queue is advanced to "now" from the recorded end times, so a queued task's RUNNING phase starts
/// exactly when an earlier task's ended. With a data folder, every submit and cancel is written there as it happens.
/// </summary>
internal sealed class TaskStore(EmulatorClock clock, TimeSpan taskTtl, EmulatorDataFolder? data = null)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, EmulatorTask> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelQueue> _queues = new(StringComparer.Ordinal);
    private DateTimeOffset _nextPurge = DateTimeOffset.MinValue;
    private long _sequence;

    /// <summary>The service's small delay between a free slot and the task starting (seeds: ≈20–50 ms).</summary>
    private TimeSpan ScheduleDelay => clock.Scale(TimeSpan.FromMilliseconds(30));

    /// <summary>
    /// Adds a task. With <paramref name="maxConcurrent"/> tasks active, it waits as PENDING, or, when
    /// <paramref name="rejectWhenFull"/>, is not added (returns false).
    /// </summary>
    public bool TryAdd(EmulatorTask task, int maxConcurrent, bool rejectWhenFull)
    {
        lock (_lock)
        {
            var now = task.SubmitTime;
            Purge(now);
            if (!task.IsSync && rejectWhenFull)
            {
                var queue = QueueOf(task.Model.Name);
                queue.Advance(now, maxConcurrent, ScheduleDelay);
                if (queue.ActiveCount(now) >= maxConcurrent)
                {
                    return false;
                }
            }

            task.Sequence = ++_sequence;
            Add(task, maxConcurrent);
        }

        // Outside the lock: submits write their own files side by side, and the caller answers only once it is written.
        data?.SaveTask(task);
        return true;
    }

    /// <summary>
    /// Puts back the tasks read from the data folder (before the first request): their submits and cancels are replayed
    /// in their original order, so each queued task gets the slot, and the scheduled time, it had.
    /// </summary>
    public void Restore(IEnumerable<(EmulatorTask Task, DateTimeOffset? CanceledTime)> tasks, Func<string, int> maxConcurrent)
    {
        lock (_lock)
        {
            var list = tasks.ToList();
            var submits = list.Select(t => (t.Task.Sequence, t.Task, CanceledTime: (DateTimeOffset?)null));
            var cancels = list.Where(t => t.CanceledTime is not null).Select(t => (Sequence: t.Task.CancelSequence, t.Task, t.CanceledTime));
            foreach (var (sequence, task, canceledTime) in submits.Concat(cancels).OrderBy(e => e.Sequence))
            {
                if (canceledTime is { } at)
                {
                    // As TryCancel did: the task's queue advanced to the moment of the cancel, then the cancel.
                    if (_queues.TryGetValue(task.Model.Name, out var queue))
                    {
                        queue.Advance(at, maxConcurrent(task.Model.Name), ScheduleDelay);
                    }

                    task.CanceledTime = at;
                }
                else
                {
                    Add(task, maxConcurrent(task.Model.Name));
                }

                _sequence = Math.Max(_sequence, sequence);
            }
        }
    }

    /// <summary>The task, or null when unknown or expired. Sync tasks only when <paramref name="includeSync"/>.</summary>
    public EmulatorTask? Get(string id, DateTimeOffset now, Func<string, int> maxConcurrent, bool includeSync = false)
    {
        lock (_lock)
        {
            Purge(now);
            if (!_tasks.TryGetValue(id, out var task) || (task.IsSync && !includeSync))
            {
                return null;
            }

            if (_queues.TryGetValue(task.Model.Name, out var queue))
            {
                queue.Advance(now, maxConcurrent(task.Model.Name), ScheduleDelay);
            }

            return task;
        }
    }

    /// <summary>Cancels a task that is PENDING now; false otherwise (unknown, running, finished).</summary>
    public bool TryCancel(string id, DateTimeOffset now, Func<string, int> maxConcurrent)
    {
        EmulatorTask? task;
        lock (_lock)
        {
            task = Get(id, now, maxConcurrent);
            if (task is null || task.StatusAt(now) != TaskStatus.Pending)
            {
                return false;
            }

            task.CanceledTime = now;
            task.CancelSequence = ++_sequence;
        }

        data?.SaveTask(task);
        return true;
    }

    /// <summary>Every live async task, oldest first, with states advanced to <paramref name="now"/>.</summary>
    public IReadOnlyList<EmulatorTask> List(DateTimeOffset now, Func<string, int> maxConcurrent)
    {
        lock (_lock)
        {
            Purge(now);
            foreach (var (model, queue) in _queues)
            {
                queue.Advance(now, maxConcurrent(model), ScheduleDelay);
            }

            return [.. _tasks.Values.Where(t => !t.IsSync).OrderBy(t => t.SubmitTime)];
        }
    }

    /// <summary>Adds a task at its submit time (under the lock): a sync task starts at once, an async one joins its model's queue.</summary>
    private void Add(EmulatorTask task, int maxConcurrent)
    {
        var now = task.SubmitTime;
        if (task.IsSync)
        {
            task.ScheduledTime = now + ScheduleDelay;
            _tasks.Add(task.Id, task);
            return;
        }

        var queue = QueueOf(task.Model.Name);
        queue.Advance(now, maxConcurrent, ScheduleDelay);
        _tasks.Add(task.Id, task);
        queue.Pending.Enqueue(task);
        queue.Advance(now, maxConcurrent, ScheduleDelay);
    }

    private ModelQueue QueueOf(string model)
    {
        if (!_queues.TryGetValue(model, out var queue))
        {
            queue = new ModelQueue();
            _queues[model] = queue;
        }

        return queue;
    }

    private void Purge(DateTimeOffset now)
    {
        var ttl = clock.Scale(taskTtl);
        if (now < _nextPurge)
        {
            return;
        }

        var expired = _tasks.Values.Where(t => now - t.SubmitTime >= ttl).ToList();
        foreach (var task in expired)
        {
            _tasks.Remove(task.Id);
            if (task.ScheduledTime is null)
            {
                task.CanceledTime = now; // a still-queued task leaves its model's queue
            }
        }

        if (expired.Count > 0)
        {
            data?.CompactIfWorthIt(_tasks.Values); // drops the expired tasks' records once they outnumber the live ones
        }

        _nextPurge = now + (ttl / 100);
    }

    /// <summary>Whether <paramref name="task"/> has outlived the task TTL at <paramref name="now"/>.</summary>
    public bool IsExpired(EmulatorTask task, DateTimeOffset now) => now - task.SubmitTime >= clock.Scale(taskTtl);

    private sealed class ModelQueue
    {
        /// <summary>End times of tasks holding (or having held) a slot, earliest first.</summary>
        private readonly PriorityQueue<DateTimeOffset, DateTimeOffset> _running = new();

        public Queue<EmulatorTask> Pending { get; } = new();

        /// <summary>Starts queued tasks in order as slots free up, up to <paramref name="now"/>.</summary>
        public void Advance(DateTimeOffset now, int maxConcurrent, TimeSpan scheduleDelay)
        {
            while (Pending.TryPeek(out var next))
            {
                if (next.CanceledTime is not null)
                {
                    Pending.Dequeue();
                    continue;
                }

                DateTimeOffset start;
                if (_running.Count < maxConcurrent)
                {
                    start = next.SubmitTime + scheduleDelay;
                }
                else if (_running.Peek() <= now)
                {
                    var freed = _running.Dequeue();
                    start = (freed > next.SubmitTime ? freed : next.SubmitTime) + scheduleDelay;
                }
                else
                {
                    break;
                }

                Pending.Dequeue();
                next.ScheduledTime = start;
                _running.Enqueue(start + next.RunDuration, start + next.RunDuration);
            }

            if (Pending.Count == 0)
            {
                while (_running.Count > 0 && _running.Peek() <= now)
                {
                    _running.Dequeue();
                }
            }
        }

        /// <summary>Tasks running or waiting at <paramref name="now"/> (call after <see cref="Advance"/>).</summary>
        public int ActiveCount(DateTimeOffset now) => Pending.Count + _running.UnorderedItems.Count(i => i.Priority > now);
    }
}
