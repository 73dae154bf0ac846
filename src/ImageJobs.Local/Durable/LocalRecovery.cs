using DurableTask.AzureStorage;

namespace ImageJobs.Local.Durable;

/// <summary>
/// The provider settings the local host changes from Durable's defaults, so that the work of a killed process is picked
/// up within seconds rather than minutes. In Azure the Functions app keeps Durable's defaults: the platform drains
/// instances before it stops them, and scale-out there is measured in minutes anyway.
/// <list type="table">
/// <item><term>work-item queue visibility</term><description>10 s instead of 5 min, renewed every
/// <see cref="RenewEvery"/> while an activity runs (<see cref="WorkItemLeaseKeeper"/>), so a long activity is never
/// handed out twice by a live process</description></item>
/// <item><term>control-queue visibility</term><description>60 s instead of 5 min (<see cref="ControlQueueVisibility"/>):
/// the provider dequeues control messages ahead into a buffer, where nothing renews them, and under load they wait
/// there for their session</description></item>
/// <item><term>partition leases</term><description>10 s, renewed every 3 s, acquired every 3 s (Durable: 30 s, 10 s,
/// 10 s): a dead process's partitions move within about 13 s</description></item>
/// <item><term>worker id</term><description>machine name and process id, so two processes on one machine never share
/// partition leases</description></item>
/// </list>
/// A value host.json (or an <c>AzureFunctionsJobHost__extensions__durableTask__storageProvider__*</c> setting) gives
/// explicitly is kept: only values still at the provider's default are changed.
/// </summary>
public static class LocalRecovery
{
    /// <summary>How long a dequeued work-item (activity) message stays invisible before another process may take it.</summary>
    public static readonly TimeSpan Visibility = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a dequeued control-queue (orchestration) message stays invisible before another process may take it.
    /// Longer than <see cref="Visibility"/>: the provider prefetches control messages into a buffer (up to
    /// <c>controlQueueBufferThreshold</c>) where they wait for their instance's turn unrenewed. At 10 s, 200 jobs at once
    /// on Azurite kept messages buffered past it; they were delivered again while the first copy ran ("split brain",
    /// pop receipts that no longer matched), and 43–71 of the 200 jobs never finished. At 60 s all 200 did, with no
    /// error. A killed process's buffered messages therefore reappear within a minute.
    /// </summary>
    public static readonly TimeSpan ControlQueueVisibility = TimeSpan.FromSeconds(60);

    /// <summary>How often a running work item's messages are renewed (at most; see <see cref="RenewInterval"/>).</summary>
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(3);

    /// <summary>How long a partition lease lasts without renewal.</summary>
    public static readonly TimeSpan LeaseInterval = TimeSpan.FromSeconds(10);

    /// <summary>How often leases are renewed and free ones looked for.</summary>
    public static readonly TimeSpan LeaseRenewInterval = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How often running work items are renewed under <paramref name="settings"/>: <see cref="RenewEvery"/>, or a third
    /// of the shorter visibility timeout when that is shorter, so a renewal always lands before the messages reappear.
    /// </summary>
    public static TimeSpan RenewInterval(AzureStorageOrchestrationServiceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var shortest = settings.WorkItemQueueVisibilityTimeout < settings.ControlQueueVisibilityTimeout
            ? settings.WorkItemQueueVisibilityTimeout
            : settings.ControlQueueVisibilityTimeout;
        return shortest / 3 < RenewEvery ? shortest / 3 : RenewEvery;
    }

    /// <summary>Applies the local values to every setting still at the provider's default.</summary>
    public static void Apply(AzureStorageOrchestrationServiceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var defaults = new AzureStorageOrchestrationServiceSettings();
        if (settings.WorkItemQueueVisibilityTimeout == defaults.WorkItemQueueVisibilityTimeout)
        {
            settings.WorkItemQueueVisibilityTimeout = Visibility;
        }

        if (settings.ControlQueueVisibilityTimeout == defaults.ControlQueueVisibilityTimeout)
        {
            settings.ControlQueueVisibilityTimeout = ControlQueueVisibility;
        }

        settings.LeaseInterval = LeaseInterval;
        settings.LeaseRenewInterval = LeaseRenewInterval;
        settings.LeaseAcquireInterval = LeaseRenewInterval;
        settings.WorkerId = WorkerIdOf(Environment.ProcessId);
    }

    /// <summary>The worker id (partition lease owner) of the local host in process <paramref name="processId"/> on this machine.</summary>
    public static string WorkerIdOf(int processId) => $"{Environment.MachineName}-{processId.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
