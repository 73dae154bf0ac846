using ImageJobs.DashScope;

namespace ImageJobs.Workflow.Provider;

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
