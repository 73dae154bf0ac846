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
    /// there unrenewed for their instance's turn, so a large buffer keeps messages past this time and they are delivered
    /// again while the first copy runs; hence the small <see cref="ControlQueueBufferThreshold"/> (measurements in
    /// docs/benchmarks-notes.md). A killed process's dequeued orchestration messages then reappear within 10 s, about
    /// when its partition leases expire.
    /// </summary>
    public static readonly TimeSpan ControlQueueVisibility = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many control-queue messages a process prefetches before it stops dequeuing (Durable: 256). Small, so that a
    /// prefetched message runs within <see cref="ControlQueueVisibility"/>; it costs no throughput, because Azurite, not
    /// the dequeue loop, is the bottleneck (docs/benchmarks-notes.md).
    /// </summary>
    public const int ControlQueueBufferThreshold = 16;

    /// <summary>
    /// How long a partition lease lasts without renewal. Not shorter: with shorter leases, processes sharing a few cores
    /// and one Azurite lose leases they are still using (the provider logs "split brain" and abandons work items), which
    /// costs more than the faster takeover of a killed process's jobs gains (docs/benchmarks-notes.md).
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
