using System.Collections.Concurrent;
using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local.Durable;

/// <summary>
/// The Azure Storage provider as the local sidecar's dispatchers see it, with two things added that the Durable Task
/// Framework's own dispatchers do and the sidecar's do not:
/// <list type="bullet">
/// <item>While a work item runs, its queue messages stay invisible, renewed every <see cref="RenewEvery"/>. That lets the
/// local host use short visibility timeouts, so the work of a process that was killed reappears within seconds, while
/// work that runs longer than the timeout in a live process is never handed out a second time.</item>
/// <item>A second ExecutionStarted message for an instance that has one is dropped (the framework's
/// <c>ReconcileMessagesWithState</c>: "duplicate start event"). The provider commits an episode's history before it
/// deletes the episode's messages, so a process killed in between leaves the start message to be delivered again, with
/// the same execution id, to the process that takes over the partition; the sidecar would add it to the history and fail
/// every episode it comes with ("Multiple ExecutionStartedEvent found") until its back-off let one through without it.
/// The dropped message is deleted with the episode's other messages.</item>
/// <item>The concurrency limits (<c>maxConcurrentOrchestratorFunctions</c>, <c>maxConcurrentActivityFunctions</c>) are
/// held here, by a semaphore taken before a work item is fetched and given back when it is released, as the framework's
/// own dispatchers hold them. The sidecar's dispatchers see no limit: at their limit they poll every 500 ms for a free
/// slot, which at five orchestrations in flight capped a busy hub at ten episodes a second.</item>
/// </list>
/// </summary>
/// <param name="inner">The Azure Storage provider.</param>
/// <param name="renewEvery">How often a running work item's lock is renewed (well under the visibility timeout).</param>
/// <param name="logger">Where a dropped duplicate is reported.</param>
internal sealed partial class WorkItemLeaseKeeper(IOrchestrationService inner, TimeSpan renewEvery, ILogger logger) : IOrchestrationService, IDisposable
{
    private readonly ConcurrentDictionary<object, Renewal> _renewals = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<object, SemaphoreSlim> _slots = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim _orchestrationSlots = new(inner.MaxConcurrentTaskOrchestrationWorkItems);
    private readonly SemaphoreSlim _activitySlots = new(inner.MaxConcurrentTaskActivityWorkItems);
    private Task? _started;

    /// <summary>How often a running work item's lock is renewed.</summary>
    public TimeSpan RenewEvery { get; } = renewEvery;

    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    // What the sidecar's dispatchers see: no limit of their own (this class holds the real one).
    public int MaxConcurrentTaskOrchestrationWorkItems => int.MaxValue;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => int.MaxValue;

    public Task StartAsync() => _started = inner.StartAsync();

    public Task StopAsync() => StopAsync(isForced: false);

    // The sidecar starts the provider only once a worker connects, but stops it whenever it stops, from an async void
    // callback: stopping a provider that never started would throw there and take the process down.
    public async Task StopAsync(bool isForced)
    {
        if (Interlocked.Exchange(ref _started, null) is not { } started)
        {
            return;
        }

        await started;
        await inner.StopAsync(isForced);
    }

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await LockWithinLimitAsync(_orchestrationSlots, () => inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken), cancellationToken);
        if (workItem is not null)
        {
            DropDuplicateStarts(workItem);
            Keep(workItem, () => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem));
        }

        return workItem!;
    }

    // As the framework's TaskOrchestrationDispatcher.ReconcileMessagesWithState: an ExecutionStarted message for an
    // instance whose history (or this batch, before it) already has one is not added. The provider still deletes it
    // with the batch when the episode completes.
    private void DropDuplicateStarts(TaskOrchestrationWorkItem workItem)
    {
        if (workItem.NewMessages is not { Count: > 0 } messages)
        {
            return;
        }

        var started = workItem.OrchestrationRuntimeState?.ExecutionStartedEvent is not null;
        List<TaskMessage>? kept = null;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Event is ExecutionStartedEvent)
            {
                if (started)
                {
                    kept ??= [.. messages.Take(i)];
                    LogDroppedStart(logger, workItem.InstanceId, messages[i].OrchestrationInstance?.ExecutionId);
                    continue;
                }

                started = true;
            }

            kept?.Add(messages[i]);
        }

        if (kept is not null)
        {
            workItem.NewMessages = kept;
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning,
        Message = "Dropped a duplicate ExecutionStarted message for {InstanceId} (execution {ExecutionId}): the instance has started already. "
            + "A process that ran it stopped between saving its history and deleting its messages.")]
    private static partial void LogDroppedStart(ILogger logger, string instanceId, string? executionId);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public async Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        await StopKeepingAsync(workItem);
        await inner.CompleteTaskOrchestrationWorkItemAsync(
            workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);
    }

    public async Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        await StopKeepingAsync(workItem);
        await inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
    }

    public async Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        await StopKeepingAsync(workItem);
        try
        {
            await inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        }
        finally
        {
            GiveBackSlot(workItem);
        }
    }

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await LockWithinLimitAsync(_activitySlots, () => inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken), cancellationToken);
        if (workItem is not null)
        {
            Keep(workItem, () => inner.RenewTaskActivityWorkItemLockAsync(workItem));
        }

        return workItem!;
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    // The sidecar has no release step for activities: a completed or abandoned one gives its slot back (once, even
    // when a failed completion is followed by an abandon).
    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        await StopKeepingAsync(workItem);
        try
        {
            await inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
        }
        finally
        {
            GiveBackSlot(workItem);
        }
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        await StopKeepingAsync(workItem);
        try
        {
            await inner.AbandonTaskActivityWorkItemAsync(workItem);
        }
        finally
        {
            GiveBackSlot(workItem);
        }
    }

    // Takes a slot, then fetches; a fetch that returns nothing or fails gives the slot back at once.
    private async Task<T?> LockWithinLimitAsync<T>(SemaphoreSlim slots, Func<Task<T>> fetch, CancellationToken cancellationToken)
        where T : class
    {
        await slots.WaitAsync(cancellationToken);
        T? workItem = null;
        try
        {
            workItem = await fetch();
        }
        finally
        {
            if (workItem is null)
            {
                slots.Release();
            }
        }

        if (workItem is not null)
        {
            _slots[workItem] = slots;
        }

        return workItem;
    }

    private void GiveBackSlot(object workItem)
    {
        if (_slots.TryRemove(workItem, out var slots))
        {
            slots.Release();
        }
    }

    public void Dispose()
    {
        _orchestrationSlots.Dispose();
        _activitySlots.Dispose();
    }

    /// <summary>How many work items are being kept now (tests).</summary>
    internal int Kept => _renewals.Count;

    private void Keep(object workItem, Func<Task> renew)
    {
        var renewal = new Renewal();
        _renewals[workItem] = renewal;
        renewal.Loop = RenewLoopAsync(renew, renewal.Stop.Token);
    }

    private async Task RenewLoopAsync(Func<Task> renew, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(RenewEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await renew();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed renewal is retried on the next tick; if the lock is lost meanwhile, the provider's own
                    // duplicate handling applies, as with its built-in dispatchers.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Stops renewing and waits for a renewal in flight, so completing never races a renewal over the message's receipt.
    private async Task StopKeepingAsync(object workItem)
    {
        if (_renewals.TryRemove(workItem, out var renewal))
        {
            await renewal.Stop.CancelAsync();
            await renewal.Loop!;
            renewal.Stop.Dispose();
        }
    }

    private sealed class Renewal
    {
        public CancellationTokenSource Stop { get; } = new();

        public Task? Loop { get; set; }
    }
}
