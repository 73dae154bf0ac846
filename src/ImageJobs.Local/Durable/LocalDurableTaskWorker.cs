using DurableTask.Core;
using ImageJobs.Local.Durable.Shims;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Hosting;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImageJobs.Local.Durable;

/// <summary>
/// The local host's Microsoft.DurableTask worker: the Durable Task Framework's own <see cref="TaskHubWorker"/> (the
/// dispatcher the Durable Functions extension runs in Azure: lock renewal, duplicate-start reconciliation, concurrency
/// limits, ContinueAsNew, extended sessions) over the hub's Azure Storage provider, running the tasks of the worker's
/// registry through <see cref="DurableTaskShimFactory"/>. Registered with
/// <c>AddDurableTaskWorker(b =&gt; b.UseBuildTarget&lt;LocalDurableTaskWorker&gt;())</c>, so the registry and the
/// options (the data converter) are the ones every other Microsoft.DurableTask worker gets.
/// </summary>
public sealed class LocalDurableTaskWorker : DurableTaskWorker
{
    private readonly TaskHubWorker _worker;

    /// <summary>Creates the worker; the builder calls this with the registry's factory.</summary>
    /// <param name="name">The worker's name (its options' name).</param>
    /// <param name="factory">The registry's tasks.</param>
    /// <param name="hub">The task hub to run them on.</param>
    /// <param name="options">The worker options (the data converter the shims use).</param>
    /// <param name="services">Where activities are built, one scope per call.</param>
    public LocalDurableTaskWorker(
        string name, IDurableTaskFactory factory, LocalTaskHub hub, IOptionsMonitor<DurableTaskWorkerOptions> options, IServiceProvider services)
        : base(name, factory)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(options);
        var shims = new DurableTaskShimFactory(options.Get(name), hub.LoggerFactory);
        _worker = new TaskHubWorker(
            hub.Service,
            new RegistryOrchestrations(Factory, shims, services),
            new RegistryActivities(Factory, shims, services),
            new NoEntities(),
            hub.LoggerFactory)
        {
            // The shims report failures as FailureDetails (TaskFailedException.FailureDetails.IsCausedBy<T>()).
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        _worker.AddOrchestrationDispatcherMiddleware((context, next) =>
        {
            if (context.GetProperty<TaskOrchestration>() is ShimmedOrchestration orchestration)
            {
                orchestration.Bind(context.GetProperty<OrchestrationRuntimeState>()?.ParentInstance);
            }

            return next();
        });
    }

    /// <summary>Starts the dispatchers (and with them the provider's partition leases).</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken) => await _worker.StartAsync();

    /// <summary>
    /// Stops the dispatchers without waiting for work in flight (the framework would wait up to 8 s), then the provider,
    /// which gives up its partition leases, so a restarted host takes them at once. Work that was in flight is
    /// delivered again when its messages' visibility ends, as after a crash: every step is idempotent.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _worker.StopAsync(isForced: true);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _worker.Dispose();
        base.Dispose();
    }
}
