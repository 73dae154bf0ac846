using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Orchestrations;

/// <summary>Durable timers that never wake an orchestration before the time it asked for.</summary>
public static class DurableTimers
{
    /// <summary>
    /// The shortest timer a re-wait asks for. The Azure Storage provider delays a timer's message by queue visibility,
    /// which counts whole seconds (truncated): a timer can fire up to a second early, and one less than a second away
    /// fires at once. A re-wait of at least this long is never truncated to zero.
    /// </summary>
    public static readonly TimeSpan RewaitStep = TimeSpan.FromSeconds(1.1);

    /// <summary>
    /// Waits on durable timers until <see cref="TaskOrchestrationContext.CurrentUtcDateTime"/> is at least
    /// <paramref name="fireAt"/>. When a timer fires early by <c>r</c>, one more timer of <see cref="RewaitStep"/> (or
    /// up to <paramref name="fireAt"/>, if later) covers the rest, so the orchestration wakes about <c>1 s - r</c> late
    /// instead of early, and never spins on sub-second timers that fire at once. Providers with exact timers (the
    /// in-memory test host) never re-wait.
    /// </summary>
    public static async Task WaitUntilAsync(this TaskOrchestrationContext context, DateTime fireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.CreateTimer(fireAt, cancellationToken);
        while (context.CurrentUtcDateTime < fireAt)
        {
            var again = context.CurrentUtcDateTime + RewaitStep;
            await context.CreateTimer(again > fireAt ? again : fireAt, cancellationToken);
        }
    }
}
