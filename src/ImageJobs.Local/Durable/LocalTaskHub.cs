using System.Net;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local.Durable;

/// <summary>
/// The local host's task hub: the Durable Task Framework's Azure Storage provider (the backend Durable Functions uses in
/// Azure, on the same tables, queues and containers), served in this process over gRPC by
/// <see cref="TaskHubGrpcServer"/> on a free loopback port, so the real Microsoft.DurableTask worker and client connect to
/// it with <c>UseGrpc(</c><see cref="Channel"/><c>)</c>. This is the only class that knows the sidecar (a preview package).
/// Stop the worker before disposing this: a sidecar stopped under a connected worker takes 30 s to shut down.
/// </summary>
public sealed class LocalTaskHub : IAsyncDisposable
{
    private readonly WebApplication _sidecar;
    private readonly ILoggerFactory _loggerFactory;

    private LocalTaskHub(WebApplication sidecar, GrpcChannel channel, AzureStorageOrchestrationService service, Uri address, ILoggerFactory loggerFactory)
    {
        _sidecar = sidecar;
        _loggerFactory = loggerFactory;
        Channel = channel;
        Service = service;
        Address = address;
    }

    /// <summary>The channel the worker and the client use.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>The sidecar's loopback address.</summary>
    public Uri Address { get; }

    /// <summary>The provider.</summary>
    public AzureStorageOrchestrationService Service { get; }

    /// <summary>The provider's settings: which hub, which account, which leases and timeouts.</summary>
    public AzureStorageOrchestrationServiceSettings Settings { get; private init; } = null!;

    /// <summary>
    /// Creates the hub's tables, queues and containers if they are missing, and starts the sidecar on them. Its
    /// dispatchers start with it and hand work to the worker once one connects.
    /// </summary>
    /// <param name="settings">The provider settings (<see cref="TaskHubSettings"/>).</param>
    /// <param name="renewEvery">How often a running work item's queue messages are renewed (<see cref="WorkItemLeaseKeeper"/>).</param>
    /// <param name="loggerFactory">Where the provider and the sidecar log; the hub owns it once started, and disposes it
    /// last (after the sidecar and the provider have stopped logging).</param>
    /// <param name="cancellationToken">Stops the start.</param>
    public static async Task<LocalTaskHub> StartAsync(
        AzureStorageOrchestrationServiceSettings settings, TimeSpan renewEvery, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        settings.LoggerFactory = loggerFactory;

        // The sidecar's dispatchers pull orchestrations and entities from one queue (the workflow has no entities).
        settings.UseSeparateQueueForEntityWorkItems = false;
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync().WaitAsync(cancellationToken);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        // Created by the container, so disposed with the sidecar.
        builder.Services.AddSingleton<IOrchestrationService>(_ => new WorkItemLeaseKeeper(service, renewEvery, loggerFactory.CreateLogger<WorkItemLeaseKeeper>()));
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        var sidecar = builder.Build();
        sidecar.MapGrpcService<TaskHubGrpcServer>();
        await sidecar.StartAsync(cancellationToken);

        var address = new Uri(sidecar.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return new LocalTaskHub(sidecar, GrpcChannel.ForAddress(address), service, address, loggerFactory) { Settings = settings };
    }

    /// <summary>Closes the channel, stops the sidecar (and with it the provider's dispatchers and leases), then disposes the logger factory.</summary>
    public async ValueTask DisposeAsync()
    {
        await Channel.ShutdownAsync();
        Channel.Dispose();
        await _sidecar.StopAsync();
        await _sidecar.DisposeAsync();
        _loggerFactory.Dispose();
    }
}
