namespace ImageJobs.Workflow.Provider;

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
