using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Azure;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;

namespace ImageJobs.Workflow.Provider;

/// <summary>One reserved call time in a pacing lane.</summary>
/// <param name="At">When the call goes out.</param>
/// <param name="Owner">The job holding it (submits), or <see langword="null"/> (task queries).</param>
public sealed record PacingSlot(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("by")] string? Owner = null);

/// <summary>
/// Paces every instance's calls to DashScope under the documented limits, through the storage they already share, so
/// jobs wait their turn instead of collecting 429s, however many processes (Functions scale-out, <c>serve --instances</c>)
/// run on the account:
/// <list type="bullet">
/// <item>Submits per model (<see cref="DashScopeModelProfile.SubmitRequestsPerSecond"/>): a job gets the earliest free
/// slot of its model's lane. A slot further away than <see cref="MaxInlineWait"/> is handed back to the orchestration,
/// which waits for it on a durable timer (holding no activity slot) and then submits in it.</item>
/// <item>Task queries for the whole account (<see cref="DashScopeModels.TaskQueryRequestsPerSecond"/>), waited for
/// inline (the poll schedule already spreads polls to fit).</item>
/// </list>
/// A lane is one small blob (<c>pacing/{lane}.json</c> in <see cref="ImageJobsOptions.StateContainer"/>) listing the
/// reserved call times, each at least <see cref="Interval"/> from the next: <c>(window + margin) / limit</c>, so any
/// window holds at most the limit, with the <see cref="Margin"/> (a quarter of a window, at least
/// <see cref="MinMargin"/>) to spare for late sends and network jitter. A reservation is one ETag-conditional write (the lane as this process last wrote it), so an uncontended
/// submit costs one storage round trip; when another instance wrote in between, the write is refused, and the lane is
/// read and placed again. Reservations made in one process meanwhile go out together in the next write. A slot is a
/// time, not a lock: an instance that dies holding one leaves a gap of one interval, and the job, resumed elsewhere,
/// takes a new slot (its old one is replaced, never held twice). Against an emulator whose rate windows are scaled,
/// every interval is scaled by <see cref="ImageJobsOptions.RateWindowScale"/>.
/// </summary>
public sealed class ProviderPacing
{
    /// <summary>The longest an activity waits in place for its submit slot.</summary>
    public static readonly TimeSpan MaxInlineWait = TimeSpan.FromSeconds(3);

    /// <summary>How many refused writes (other instances writing the lane meanwhile) a reservation outlasts.</summary>
    public const int MaxConflicts = 50;

    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly JobStateStore _store;
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;

    /// <summary>Paces under DashScope's limits, counted over windows of <see cref="ImageJobsOptions.RateWindowScale"/> seconds.</summary>
    public ProviderPacing(JobStateStore store, TimeProvider time, ImageJobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _time = time;
        _window = TimeSpan.FromSeconds(options.RateWindowScale);
    }

    /// <summary>The least spare time in every window, for late sends and network jitter, however small the window is scaled.</summary>
    public static readonly TimeSpan MinMargin = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The spare time of each window: <c>window × (1 / </c><see cref="DashScopeModels.LimitHeadroom"/><c> - 1)</c> (a quarter of a window), at
    /// least <see cref="MinMargin"/>.
    /// </summary>
    public TimeSpan Margin => TimeSpan.FromTicks(Math.Max((long)(_window.Ticks * ((1 / DashScopeModels.LimitHeadroom) - 1)), MinMargin.Ticks));

    /// <summary>
    /// How late a reserved slot may still be used: 40 % of the <see cref="Margin"/> (a tenth of a window), leaving the
    /// rest for jitter. Later, the job takes a new slot (a send that late could crowd the next ones into one window).
    /// </summary>
    public TimeSpan LateTolerance => Margin * 0.4;

    /// <summary>
    /// The least time between two calls of a lane whose limit is <paramref name="perWindow"/> calls per window:
    /// <c>(window + </c><see cref="Margin"/><c>) / limit</c>, so any <c>limit + 1</c> calls span more than a window.
    /// </summary>
    public TimeSpan Interval(int perWindow) => (_window + Margin) / perWindow;

    /// <summary>
    /// The submit slot of <paramref name="jobId"/> for <paramref name="model"/>: <paramref name="held"/> while it is due
    /// within <see cref="LateTolerance"/> (no storage call), else the job's slot in the lane if it is still usable, else
    /// the earliest free one, which replaces it.
    /// </summary>
    public async Task<DateTimeOffset> ReserveSubmitAsync(string model, string jobId, DateTimeOffset? held, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (held is { } slot && _time.GetUtcNow() <= slot + LateTolerance)
        {
            return slot;
        }

        var rate = DashScopeModels.TryGetProfile(model, out var profile) ? profile.SubmitRequestsPerSecond : 1;
        return await LaneFor("submit-" + model, Interval(rate)).ReserveAsync(jobId, cancellationToken);
    }

    /// <summary>Takes the account's next task-query slot and waits for it.</summary>
    /// <returns>The slot's time.</returns>
    public async Task<DateTimeOffset> WaitForQuerySlotAsync(CancellationToken cancellationToken)
    {
        var slot = await LaneFor("queries", Interval(DashScopeModels.TaskQueryRequestsPerSecond)).ReserveAsync(null, cancellationToken);
        await _time.DelayUntilAsync(slot, cancellationToken);
        return slot;
    }

    /// <summary>
    /// Places <paramref name="owner"/> in a lane's <paramref name="slots"/> (sorted by time; changed in place): slots
    /// that can no longer constrain a call at or after <paramref name="now"/> are dropped; the owner's slot is kept if it
    /// is no more than <paramref name="lateTolerance"/> past, else replaced by the earliest time from
    /// <paramref name="now"/> that is at least <paramref name="interval"/> from every other slot.
    /// </summary>
    /// <returns>The owner's slot, and whether <paramref name="slots"/> changed.</returns>
    public static (DateTimeOffset At, bool Changed) Place(List<PacingSlot> slots, string? owner, DateTimeOffset now, TimeSpan interval, TimeSpan lateTolerance)
    {
        ArgumentNullException.ThrowIfNull(slots);
        var changed = slots.RemoveAll(s => s.At < now - interval - lateTolerance) > 0;
        if (owner is not null && slots.FindIndex(s => s.Owner == owner) is var own and >= 0)
        {
            if (slots[own].At >= now - lateTolerance)
            {
                return (slots[own].At, changed);
            }

            slots.RemoveAt(own);
        }

        // Sorted, and `at` only moves forward: a slot it cleared stays cleared.
        var at = now;
        var index = 0;
        for (; index < slots.Count; index++)
        {
            var s = slots[index].At;
            if (s - at >= interval)
            {
                break;
            }

            if (at - s < interval)
            {
                at = s + interval;
            }
        }

        slots.Insert(index, new PacingSlot(at, owner));
        return (at, true);
    }

    private Lane LaneFor(string name, TimeSpan interval) => _lanes.GetOrAdd(name, n => new Lane(this, n, interval));

    /// <summary>One lane, written by one writer at a time in this process; reservations arriving meanwhile share the next write.</summary>
    private sealed class Lane(ProviderPacing pacing, string name, TimeSpan interval)
    {
        private readonly Lock _gate = new();
        private List<(string? Owner, TaskCompletionSource<DateTimeOffset> Done)> _pending = [];
        private bool _writing;
        private List<PacingSlot>? _known;
        private ETag _etag;

        public Task<DateTimeOffset> ReserveAsync(string? owner, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
            bool write;
            lock (_gate)
            {
                _pending.Add((owner, done));
                write = !_writing;
                _writing = true;
            }

            if (write)
            {
                _ = Task.Run(WriteAllAsync, CancellationToken.None);
            }

            // A caller that gives up leaves its slot to pass unused.
            return done.Task.WaitAsync(cancellationToken);
        }

        private async Task WriteAllAsync()
        {
            while (true)
            {
                List<(string? Owner, TaskCompletionSource<DateTimeOffset> Done)> batch;
                lock (_gate)
                {
                    if (_pending.Count == 0)
                    {
                        _writing = false;
                        return;
                    }

                    (batch, _pending) = (_pending, []);
                }

                try
                {
                    var slots = await WriteAsync(batch.Select(b => b.Owner).ToList());
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Done.TrySetResult(slots[i]);
                    }
                }
#pragma warning disable CA1031 // Every failure goes to the callers waiting on this write.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    foreach (var (_, done) in batch)
                    {
                        done.TrySetException(ex);
                    }
                }
            }
        }

        private async Task<DateTimeOffset[]> WriteAsync(List<string?> owners)
        {
            for (var conflicts = 0; ; conflicts++)
            {
                if (_known is null)
                {
                    var (read, etag) = await pacing._store.GetPacingAsync(name, CancellationToken.None);
                    (_known, _etag) = ([.. read.OrderBy(s => s.At)], etag);
                }

                var slots = new List<PacingSlot>(_known);
                var now = pacing._time.GetUtcNow();
                var changed = false;
                var placed = new DateTimeOffset[owners.Count];
                for (var i = 0; i < owners.Count; i++)
                {
                    (placed[i], var c) = Place(slots, owners[i], now, interval, pacing.LateTolerance);
                    changed |= c;
                }

                if (!changed)
                {
                    return placed;
                }

                try
                {
                    _etag = await pacing._store.PutPacingAsync(name, slots, _etag, CancellationToken.None);
                    _known = slots;
                    return placed;
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412 && conflicts < MaxConflicts)
                {
                    // Another instance wrote the lane (or created it) since this one read it: read it again. A short
                    // random pause keeps instances from colliding in step.
                    _known = null;
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + conflicts)), pacing._time);
                }
            }
        }
    }
}
