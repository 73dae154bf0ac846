namespace ImageJobs.Durable.Replay;

/// <summary>
/// Runs every continuation of one orchestration episode on the thread that drives the episode, in the order they were
/// posted, like DurableTask.Core's per-execution scheduler: orchestrator code never runs in parallel with itself, so
/// <c>Task.WhenAll</c> fan-out and <c>Task.WhenAny</c> races replay the same way every time.
/// </summary>
internal sealed class OrchestrationSynchronizationContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _gate = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _queue.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => Post(d, state);

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs posted continuations until none are left.</summary>
    public void RunPending()
    {
        while (true)
        {
            (SendOrPostCallback Callback, object? State) item;
            lock (_gate)
            {
                if (!_queue.TryDequeue(out item))
                {
                    return;
                }
            }

            item.Callback(item.State);
        }
    }
}
