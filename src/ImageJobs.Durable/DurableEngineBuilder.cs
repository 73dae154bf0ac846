using ImageJobs.Durable.Storage;
using ImageJobs.Workflow.Durable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.Durable;

/// <summary>
/// Registers orchestrations and activities and builds a <see cref="DurableEngine"/>:
/// <code>
/// var engine = new DurableEngineBuilder()
///     .UseBlobStorage(options)                       // or .UseStore(new InMemoryDurableStore())
///     .AddOrchestration&lt;ImageJobOrchestration&gt;(ImageJobOrchestration.Name)
///     .AddActivity&lt;SubmitTaskActivity&gt;(SubmitTaskActivity.Name)
///     .UseServices(serviceProvider)
///     .Build();
/// await engine.StartAsync();
/// </code>
/// </summary>
public sealed class DurableEngineBuilder
{
    private readonly List<OrchestrationRegistration> _orchestrations = [];
    private readonly List<ActivityRegistration> _activities = [];
    private IDurableStore? _store;
    private IServiceProvider? _services;
    private ILoggerFactory? _loggerFactory;
    private TimeProvider? _time;

    /// <summary>The engine settings (hub name, concurrency, leases, polling).</summary>
    public DurableEngineOptions Options { get; private set; } = new();

    /// <summary>Uses these settings.</summary>
    /// <param name="options">The settings.</param>
    public DurableEngineBuilder UseOptions(DurableEngineOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        return this;
    }

    /// <summary>Changes settings in place.</summary>
    /// <param name="configure">Changes the settings.</param>
    public DurableEngineBuilder Configure(Action<DurableEngineOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Options);
        return this;
    }

    /// <summary>Uses a store (share one <see cref="InMemoryDurableStore"/> between engines to simulate a restart).</summary>
    /// <param name="store">The store.</param>
    public DurableEngineBuilder UseStore(IDurableStore store)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        return this;
    }

    /// <summary>Persists in Azure Blob Storage with <see cref="DurableEngineOptions.StorageConnectionString"/> and the hub name.</summary>
    /// <param name="options">The settings, usually from <see cref="DurableEngineOptions.FromHostJson"/>.</param>
    public DurableEngineBuilder UseBlobStorage(DurableEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _store = new BlobDurableStore(
            options.StorageConnectionString ?? throw new ArgumentException("StorageConnectionString is required for blob storage (AzureWebJobsStorage).", nameof(options)),
            options.HubName);
        return this;
    }

    /// <summary>Resolves orchestration and activity classes (and their dependencies) from this provider.</summary>
    /// <param name="services">The service provider.</param>
    public DurableEngineBuilder UseServices(IServiceProvider services)
    {
        _services = services ?? throw new ArgumentNullException(nameof(services));
        return this;
    }

    /// <summary>Logs through this factory.</summary>
    /// <param name="loggerFactory">The logger factory.</param>
    public DurableEngineBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Takes time from this provider (timers, leases, timestamps).</summary>
    /// <param name="time">The time provider.</param>
    public DurableEngineBuilder UseTimeProvider(TimeProvider time)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        return this;
    }

    /// <summary>Registers an orchestration class implementing <see cref="IOrchestration{TInput, TOutput}"/>.</summary>
    /// <typeparam name="TOrchestration">The orchestration class (created per episode, dependencies from the service provider).</typeparam>
    /// <param name="name">The orchestration name.</param>
    public DurableEngineBuilder AddOrchestration<TOrchestration>(string name)
        where TOrchestration : class
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _orchestrations.Add(Registrations.ForOrchestrationType(name, typeof(TOrchestration)));
        return this;
    }

    /// <summary>Registers an orchestration class known only at run time (e.g. from a catalog of the workflow's types).</summary>
    /// <param name="name">The orchestration name.</param>
    /// <param name="orchestrationType">A class implementing <see cref="IOrchestration{TInput, TOutput}"/>.</param>
    public DurableEngineBuilder AddOrchestration(string name, Type orchestrationType)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(orchestrationType);
        _orchestrations.Add(Registrations.ForOrchestrationType(name, orchestrationType));
        return this;
    }

    /// <summary>Registers an activity class known only at run time.</summary>
    /// <param name="name">The activity name.</param>
    /// <param name="activityType">A class implementing <see cref="IActivity{TInput, TOutput}"/>.</param>
    public DurableEngineBuilder AddActivity(string name, Type activityType)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(activityType);
        _activities.Add(Registrations.ForActivityType(name, activityType));
        return this;
    }

    /// <summary>Registers an orchestration function.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TOutput">The output type.</typeparam>
    /// <param name="name">The orchestration name.</param>
    /// <param name="run">The orchestrator code.</param>
    public DurableEngineBuilder AddOrchestration<TInput, TOutput>(string name, Func<IOrchestrationContext, TInput, Task<TOutput>> run)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(run);
        _orchestrations.Add(Registrations.ForOrchestration(name, run));
        return this;
    }

    /// <summary>Registers an activity class implementing <see cref="IActivity{TInput, TOutput}"/>, resolved per call in a DI scope.</summary>
    /// <typeparam name="TActivity">The activity class.</typeparam>
    /// <param name="name">The activity name.</param>
    public DurableEngineBuilder AddActivity<TActivity>(string name)
        where TActivity : class
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _activities.Add(Registrations.ForActivityType(name, typeof(TActivity)));
        return this;
    }

    /// <summary>Registers an activity function.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TOutput">The output type.</typeparam>
    /// <param name="name">The activity name.</param>
    /// <param name="run">The activity code.</param>
    public DurableEngineBuilder AddActivity<TInput, TOutput>(string name, Func<TInput, CancellationToken, Task<TOutput>> run)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(run);
        _activities.Add(Registrations.ForActivity(name, run));
        return this;
    }

    /// <summary>Builds the engine (not started: call <see cref="DurableEngine.StartAsync"/>).</summary>
    public DurableEngine Build() => new(
        _store ?? new InMemoryDurableStore(),
        Options,
        _orchestrations,
        _activities,
        _services ?? EmptyServiceProvider.Instance,
        _loggerFactory ?? NullLoggerFactory.Instance,
        _time ?? TimeProvider.System);

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}

/// <summary>DI registration of the embedded engine.</summary>
public static class DurableEngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="DurableEngine"/> (activities and orchestrations resolved from the container) and
    /// its <see cref="IOrchestrationClient"/>. The host starts it with <see cref="DurableEngine.StartAsync"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Registers orchestrations, activities and the store.</param>
    public static IServiceCollection AddDurableEngine(this IServiceCollection services, Action<DurableEngineBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(provider =>
        {
            var builder = new DurableEngineBuilder().UseServices(provider);
            if (provider.GetService<ILoggerFactory>() is { } loggerFactory)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            if (provider.GetService<TimeProvider>() is { } time)
            {
                builder.UseTimeProvider(time);
            }

            configure(builder);
            return builder.Build();
        });
        services.AddSingleton(provider => provider.GetRequiredService<DurableEngine>().Client);
        return services;
    }
}
