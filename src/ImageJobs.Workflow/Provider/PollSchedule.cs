namespace ImageJobs.Workflow.Provider;

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
