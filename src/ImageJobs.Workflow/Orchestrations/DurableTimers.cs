using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Orchestrations;

/// <summary>Durable timers that never wake an orchestration before the time it asked for, or not by more than <see cref="Granularity"/>.</summary>
public static class DurableTimers
{
    /// <summary>
    /// How early a durable timer can fire on the Azure Storage provider: it delays a timer's message by queue
    /// visibility, which counts whole seconds (truncated), so a timer fires up to a second early and one less than a
    /// second away fires at once.
    /// </summary>
    public static readonly TimeSpan Granularity = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The shortest timer a re-wait asks for: longer than <see cref="Granularity"/>, so never truncated to zero.
    /// </summary>
    public static readonly TimeSpan RewaitStep = TimeSpan.FromSeconds(1.1);

    /// <summary>
    /// Waits on durable timers until <see cref="TaskOrchestrationContext.CurrentUtcDateTime"/> is at least
    /// <paramref name="fireAt"/>. When a timer fires early by <c>r</c>, one more timer of <see cref="RewaitStep"/> (or
    /// up to <paramref name="fireAt"/>, if later) covers the rest, so the orchestration wakes about <c>1 s - r</c> late
    /// instead of early, and never spins on sub-second timers that fire at once. Providers with exact timers (the
    /// in-memory test host) never re-wait.
    /// </summary>
    public static Task WaitUntilAsync(this TaskOrchestrationContext context, DateTime fireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WaitAsync(context, fireAt, fireAt, cancellationToken);
    }

    /// <summary>
    /// Waits on durable timers until <see cref="TaskOrchestrationContext.CurrentUtcDateTime"/> is no more than
    /// <see cref="Granularity"/> before <paramref name="fireAt"/>, for a caller that finishes the wait where a delay is
    /// exact: the next activity, given <paramref name="fireAt"/>, sleeps the rest (at most <see cref="Granularity"/>)
    /// before it does its work. One timer at <paramref name="fireAt"/> then suffices on the Azure Storage provider, where
    /// <see cref="WaitUntilAsync"/> would re-wait and wake up to a second late; a wait already within
    /// <see cref="Granularity"/> takes no timer at all (on that provider it would fire at once). Re-waits as
    /// <see cref="WaitUntilAsync"/> does, should a timer ever fire earlier than that.
    /// </summary>
    public static Task WaitUntilNearAsync(this TaskOrchestrationContext context, DateTime fireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var earliest = fireAt - Granularity;
        return context.CurrentUtcDateTime >= earliest ? Task.CompletedTask : WaitAsync(context, fireAt, earliest, cancellationToken);
    }

    private static async Task WaitAsync(TaskOrchestrationContext context, DateTime fireAt, DateTime earliest, CancellationToken cancellationToken)
    {
        await context.CreateTimer(fireAt, cancellationToken);
        while (context.CurrentUtcDateTime < earliest)
        {
            var again = context.CurrentUtcDateTime + RewaitStep;
            await context.CreateTimer(again > fireAt ? again : fireAt, cancellationToken);
        }
    }
}
