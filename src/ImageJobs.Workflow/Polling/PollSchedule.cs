using ImageJobs.DashScope;

namespace ImageJobs.Workflow.Polling;

/// <summary>The running time a model's tasks are expected to take: documented, or learned from recent tasks.</summary>
/// <param name="Min">The earliest a task is expected to finish after it starts running.</param>
/// <param name="Max">The latest a task is normally expected to finish after it starts running.</param>
public readonly record struct DurationWindow(TimeSpan Min, TimeSpan Max)
{
    /// <summary>How many recent samples <see cref="Learn"/> needs before it trusts them over the documentation.</summary>
    public const int MinSamples = 10;

    /// <summary>
    /// The window to plan with: the 5th to 95th percentile of <paramref name="recent"/> running times once there are
    /// <see cref="MinSamples"/> of them, else <paramref name="documented"/>.
    /// </summary>
    public static DurationWindow Learn(IReadOnlyCollection<TimeSpan> recent, DurationWindow documented)
    {
        ArgumentNullException.ThrowIfNull(recent);
        if (recent.Count < MinSamples)
        {
            return documented;
        }

        var sorted = recent.Order().ToArray();
        var lo = sorted[(int)Math.Floor(0.05 * (sorted.Length - 1))];
        var hi = sorted[(int)Math.Ceiling(0.95 * (sorted.Length - 1))];
        return new DurationWindow(lo, hi < lo ? lo : hi);
    }
}

/// <summary>Knobs of <see cref="PollSchedule"/>. The defaults match the benchmark targets in the README.</summary>
public sealed record PollScheduleOptions
{
    /// <summary>Detection lag never needs to be below this. Default 1.5 s.</summary>
    public TimeSpan MinLag { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Allowed detection lag as a fraction of the task's running time. Default 0.10.</summary>
    public double LagFraction { get; init; } = 0.10;

    /// <summary>
    /// The part of every allowed lag the schedule leaves to the runtime, so that a poll planned in time is also seen in
    /// time: the status query is an activity hop there and back (work-item queue, query slot, the query, the control
    /// queue), which on a loaded machine takes up to most of a second. (The durable timer before it is not in it: it may
    /// wake early on the Azure Storage provider, whose timers count whole seconds, and the query then waits for the
    /// planned time, see <c>TaskQuery.NotBefore</c>.) The schedule waits <c>lag − RuntimeReserve</c>, and never less than
    /// a quarter of the lag. Default 1 s.
    /// </summary>
    public TimeSpan RuntimeReserve { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two polls. Default 30 s.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The account-wide task-query limit. Default <see cref="DashScopeModels.TaskQueryRequestsPerSecond"/>.</summary>
    public double QueryBudgetPerSecond { get; init; } = DashScopeModels.TaskQueryRequestsPerSecond;

    /// <summary>The share of <see cref="QueryBudgetPerSecond"/> this app plans to use, leaving room for others. Default
    /// <see cref="DashScopeModels.LimitHeadroom"/>.</summary>
    public double BudgetShare { get; init; } = DashScopeModels.LimitHeadroom;

    /// <summary>
    /// These options for a provider whose per-second limits count over <paramref name="windowSeconds"/> seconds (an
    /// emulator running time-scaled, see <c>ImageJobs:RateWindowScale</c>): the query budget per real second grows and
    /// the minimum lag, the runtime reserve and the longest interval shrink by that factor. 1 returns these options.
    /// </summary>
    public PollScheduleOptions ForRateWindow(double windowSeconds)
    {
        if (!(windowSeconds > 0) || double.IsInfinity(windowSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(windowSeconds), windowSeconds, "The rate window must be a positive number of seconds.");
        }

        return windowSeconds == 1
            ? this
            : this with
            {
                MinLag = MinLag * windowSeconds,
                RuntimeReserve = RuntimeReserve * windowSeconds,
                MaxInterval = MaxInterval * windowSeconds,
                QueryBudgetPerSecond = QueryBudgetPerSecond / windowSeconds,
            };
    }
}

/// <summary>
/// When to poll a DashScope task next: a pure function of what the orchestration knows, so it replays identically.
/// <list type="bullet">
/// <item>A PENDING task cannot finish sooner than <see cref="DurationWindow.Min"/> after it starts running, so the next
/// check waits that long, or half its expected wait in the provider's queue when that is longer.</item>
/// <item>A running task is first checked at <c>Min + plan(Min)</c>, then every <c>plan(elapsed)</c>, where
/// <c>lag(t) = max(MinLag, LagFraction·t)</c> is the lag allowed and <c>plan(t) = max(lag(t) − RuntimeReserve, lag(t)/4)</c>:
/// whenever the task finishes, a poll is due within the allowed lag less what the runtime's timers and activity hops
/// take.</item>
/// <item>Waits of PENDING tasks (which can be many: the provider runs only a few tasks per model at once) are at least
/// <c>activeJobs / (QueryBudgetPerSecond·BudgetShare)</c>, so all jobs together stay within the account's query limit;
/// running tasks are few, and their polls are paced by the caller. Every wait is at most
/// <see cref="PollScheduleOptions.MaxInterval"/>.</item>
/// </list>
/// </summary>
public static class PollSchedule
{
    /// <summary>Computes the delay before the next status query.</summary>
    /// <param name="running">Whether the provider reported the task as started (RUNNING); false while PENDING.</param>
    /// <param name="elapsed">For a running task, the time since it started (<c>scheduled_time</c>, or since submit when the provider gave none).</param>
    /// <param name="window">The expected running time of the model.</param>
    /// <param name="activeJobs">How many jobs are polling at the moment (including this one).</param>
    /// <param name="queueWait">For a PENDING task, how long it is expected to wait for the provider to start it.</param>
    /// <param name="options">The knobs; <see langword="null"/> for defaults.</param>
    public static TimeSpan NextDelay(bool running, TimeSpan elapsed, DurationWindow window, int activeJobs, TimeSpan queueWait = default, PollScheduleOptions? options = null)
    {
        options ??= Defaults;
        TimeSpan delay;
        if (!running)
        {
            delay = queueWait / 2 > window.Min ? queueWait / 2 : window.Min;
            var floor = TimeSpan.FromSeconds(Math.Max(1, activeJobs) / (options.QueryBudgetPerSecond * options.BudgetShare));
            if (delay < floor)
            {
                delay = floor;
            }
        }
        else if (elapsed < window.Min)
        {
            delay = window.Min + Planned(window.Min, options) - elapsed;
        }
        else
        {
            delay = Planned(elapsed, options);
        }

        return delay > options.MaxInterval ? options.MaxInterval : delay;
    }

    /// <summary>The detection lag allowed for a task that has been running for <paramref name="runningTime"/>.</summary>
    public static TimeSpan Lag(TimeSpan runningTime, PollScheduleOptions? options = null)
    {
        options ??= Defaults;
        var fraction = TimeSpan.FromTicks((long)(runningTime.Ticks * options.LagFraction));
        return fraction > options.MinLag ? fraction : options.MinLag;
    }

    /// <summary>
    /// The wait the schedule plans between polls of a task running for <paramref name="runningTime"/>:
    /// <see cref="Lag"/> less <see cref="PollScheduleOptions.RuntimeReserve"/>, and at least a quarter of the lag.
    /// </summary>
    public static TimeSpan Planned(TimeSpan runningTime, PollScheduleOptions? options = null)
    {
        options ??= Defaults;
        var lag = Lag(runningTime, options);
        var planned = lag - options.RuntimeReserve;
        return planned > lag / 4 ? planned : lag / 4;
    }

    private static readonly PollScheduleOptions Defaults = new();
}
