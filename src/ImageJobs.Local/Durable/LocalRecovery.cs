using DurableTask.AzureStorage;

namespace ImageJobs.Local.Durable;

/// <summary>
/// The provider settings the local host changes from Durable's defaults, so that the work of a killed process is picked
/// up within seconds rather than minutes. In Azure the Functions app keeps Durable's defaults: the platform drains
/// instances before it stops them, and scale-out there is measured in minutes anyway.
/// <list type="table">
/// <item><term>work-item queue visibility</term><description>10 s instead of 5 min; the framework's dispatcher renews
/// a running activity's message every 5 s (<c>TaskActivityDispatcher.RenewUntil</c>), so a long activity is never handed
/// out twice by a live process</description></item>
/// <item><term>control-queue visibility</term><description>10 s instead of 5 min (<see cref="ControlQueueVisibility"/>),
/// with the prefetch buffer cut from 256 to 16 messages (<see cref="ControlQueueBufferThreshold"/>): the provider
/// dequeues control messages ahead into that buffer, where nothing renews them</description></item>
/// <item><term>partition leases</term><description>10 s, renewed every 3 s, acquired every 3 s (Durable: 30 s, 10 s,
/// 10 s): a dead process's partitions move within about 13 s</description></item>
/// <item><term>worker id</term><description>machine name and process id, so two processes on one machine never share
/// partition leases</description></item>
/// </list>
/// A queue setting host.json (or an <c>AzureFunctionsJobHost__extensions__durableTask__storageProvider__*</c> setting)
/// gives is kept, even when it gives Durable's default: only the ones left out are changed.
/// </summary>
public static class LocalRecovery
{
    /// <summary>How long a dequeued work-item (activity) message stays invisible before another process may take it.</summary>
    public static readonly TimeSpan Visibility = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a dequeued control-queue (orchestration) message stays invisible before another process may take it.
    /// The provider renews only the messages of the episode running; messages it has prefetched into its buffer wait
    /// there unrenewed for their instance's turn. With Durable's 256-message buffer, 200 jobs at once on Azurite kept
    /// messages buffered past 10 s: they were delivered again while the first copy ran ("split brain", pop receipts
    /// that no longer matched), and 43–71 of the 200 jobs never finished. With the buffer at
    /// <see cref="ControlQueueBufferThreshold"/> every run of 200 finished. A killed process's dequeued orchestration
    /// messages then reappear within 10 s, about when its partition leases expire.
    /// </summary>
    public static readonly TimeSpan ControlQueueVisibility = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many control-queue messages a process prefetches before it stops dequeuing (Durable: 256). Small, so that a
    /// prefetched message runs within <see cref="ControlQueueVisibility"/>. The throughput benchmark (200 jobs) took
    /// 54–79 s in three runs with it and 80 s with 256 on this machine: no measurable cost, because Azurite, not the
    /// dequeue loop, is the bottleneck.
    /// </summary>
    public const int ControlQueueBufferThreshold = 16;

    /// <summary>
    /// How long a partition lease lasts without renewal. Not shorter: at 6 s (renewed every 2 s) three processes on
    /// 2 cores and one Azurite lost leases they were still using (the provider logged "split brain" and abandoned
    /// work items), although a killed process's jobs then resumed after 7.4 s instead of about 13 s.
    /// </summary>
    public static readonly TimeSpan LeaseInterval = TimeSpan.FromSeconds(10);

    /// <summary>How often leases are renewed and free ones looked for.</summary>
    public static readonly TimeSpan LeaseRenewInterval = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Applies the local values: the leases and worker id always, and each queue setting unless <paramref name="given"/>
    /// (<see cref="TaskHubSettings.Given"/>) says host.json gives it.
    /// </summary>
    public static void Apply(AzureStorageOrchestrationServiceSettings settings, Func<string, bool> given)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(given);
        if (!given("storageProvider:workItemQueueVisibilityTimeout"))
        {
            settings.WorkItemQueueVisibilityTimeout = Visibility;
        }

        if (!given("storageProvider:controlQueueVisibilityTimeout"))
        {
            settings.ControlQueueVisibilityTimeout = ControlQueueVisibility;
        }

        if (!given("storageProvider:controlQueueBufferThreshold"))
        {
            settings.ControlQueueBufferThreshold = ControlQueueBufferThreshold;
        }

        settings.LeaseInterval = LeaseInterval;
        settings.LeaseRenewInterval = LeaseRenewInterval;
        settings.LeaseAcquireInterval = LeaseRenewInterval;
        settings.WorkerId = WorkerIdOf(Environment.ProcessId);
    }

    /// <summary>The worker id (partition lease owner) of the local host in process <paramref name="processId"/> on this machine.</summary>
    public static string WorkerIdOf(int processId) => $"{Environment.MachineName}-{processId.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
