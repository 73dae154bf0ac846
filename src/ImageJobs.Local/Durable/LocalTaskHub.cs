using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local.Durable;

/// <summary>
/// The local host's task hub: the Durable Task Framework's Azure Storage provider, the backend Durable Functions uses in
/// Azure, on the same tables, queues and containers. <see cref="LocalDurableTaskWorker"/> runs the workflow on it and
/// <see cref="LocalDurableTaskClient"/> starts and reads jobs through it.
/// </summary>
public sealed class LocalTaskHub : IAsyncDisposable
{
    private LocalTaskHub(AzureStorageOrchestrationService service, AzureStorageOrchestrationServiceSettings settings, ILoggerFactory loggerFactory)
    {
        Service = service;
        Settings = settings;
        LoggerFactory = loggerFactory;
    }

    /// <summary>The provider (its worker side and its client side).</summary>
    public AzureStorageOrchestrationService Service { get; }

    /// <summary>The provider's settings: which hub, which account, which leases and timeouts.</summary>
    public AzureStorageOrchestrationServiceSettings Settings { get; }

    /// <summary>Where the provider and the framework's dispatchers log.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Creates the hub's tables, queues and containers if they are missing.</summary>
    /// <param name="settings">The provider settings (<see cref="TaskHubSettings"/>).</param>
    /// <param name="loggerFactory">Where the provider and the dispatchers log; the hub owns it, and disposes it last.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    public static async Task<LocalTaskHub> StartAsync(
        AzureStorageOrchestrationServiceSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        settings.LoggerFactory = loggerFactory;
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync().WaitAsync(cancellationToken);
        return new LocalTaskHub(service, settings, loggerFactory);
    }

    /// <summary>Disposes the logger factory (stop the worker first: it stops the provider).</summary>
    public ValueTask DisposeAsync()
    {
        LoggerFactory.Dispose();
        return ValueTask.CompletedTask;
    }
}
