using System.Security.Cryptography;
using ImageJobs.Local.Durable;
using ImageJobs.Workflow.Api;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local;

/// <summary>
/// The local host, the same app shape as <c>func start</c>: the jobs HTTP API behind function keys, the
/// <c>image-jobs</c> queue trigger and the <c>uploads</c> blob trigger, on the Durable Task Framework's Azure Storage
/// provider (<see cref="LocalTaskHub"/>) with the real Microsoft.DurableTask worker and client, in a short list of named
/// steps.
/// </summary>
public static class LocalApp
{
    /// <summary>The function key setting.</summary>
    public const string FunctionKeySetting = "IMAGEJOBS_FUNCTION_KEY";

    /// <summary>The setting that overrides host.json's task hub name, as in Azure Functions.</summary>
    public const string HubNameSetting = "AzureFunctionsJobHost:extensions:durableTask:hubName";


    /// <summary>Builds the app (not started). Dispose the returned environment after the app.</summary>
    public static async Task<(WebApplication App, LocalEnvironment Environment)> BuildAsync(LocalAppOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = options.Root });
        LocalEnvironment.AddLocalSettings(builder.Configuration, options.Root);
        builder.Configuration.AddInMemoryCollection(options.Overrides);
        var environment = await LocalEnvironment.PrepareAsync(options.Root, builder.Configuration, options.InMemoryStorage, cancellationToken);
        builder.Configuration.AddInMemoryCollection(environment.Settings);
        builder.Configuration.AddInMemoryCollection(options.Overrides);
        // The Durable Task shims log each activity and orchestration at Information; the app's own log lines say what a
        // job does.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter("Microsoft.DurableTask", LogLevel.Warning)
            .AddFilter("Microsoft.Hosting.Lifetime", options.Quiet ? LogLevel.Warning : LogLevel.Information);
        if (options.Quiet)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        options.ConfigureLogging?.Invoke(builder.Logging);
        builder.WebHost.UseUrls(options.Urls ?? "http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = JobsApi.MaxBodyBytes);

        builder.Services.AddProblemDetails();
        builder.Services.AddImageJobs(builder.Configuration);
        var hostJson = HostJson.Read(environment.HostJsonPath);
        environment.TaskHub = await StartTaskHubAsync(builder.Configuration, hostJson, options, cancellationToken);
        builder.Services.AddDurableTask(environment.TaskHub, options.ConfigureTasks);
        if (options.Triggers)
        {
            builder.Services.AddLocalTriggers(builder.Configuration, hostJson);
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (options.Urls is not null)
        {
            var key = LocalFunctionKey.Get(app.Configuration, options.Root, out var keptIn);
            if (keptIn is not null)
            {
                Log.KeptFunctionKey(app.Logger, key, keptIn);
            }

            app.MapJobsApi(key);
        }
        return (app, environment);
    }

    /// <summary>
    /// Opens the task hub: host.json's <c>extensions.durableTask</c> mapped as Durable Functions maps it
    /// (<see cref="TaskHubSettings"/>; <c>AzureFunctionsJobHost__extensions__durableTask__*</c> settings override it, as in
    /// Functions), on the app's storage, with the local recovery settings (<see cref="LocalRecovery"/>).
    /// </summary>
    private static async Task<LocalTaskHub> StartTaskHubAsync(IConfiguration configuration, HostJson hostJson, LocalAppOptions options, CancellationToken cancellationToken)
    {
        var connection = StorageClients.ConnectionString(configuration)
            ?? throw new InvalidOperationException($"{StorageClients.ConnectionName} is not set: the task hub needs a storage account.");
        var settings = TaskHubSettings.FromHostJson(hostJson, configuration, connection);
        LocalRecovery.Apply(settings, TaskHubSettings.Given(hostJson, configuration));
        var loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
            options.ConfigureLogging?.Invoke(logging);
        });
        try
        {
            return await LocalTaskHub.StartAsync(settings, loggerFactory, cancellationToken);
        }
        catch
        {
            // Not started, so not owned by a hub.
            loggerFactory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Registers the Microsoft.DurableTask worker, with every orchestrator and activity of the workflow, run by the Durable
    /// Task Framework's own dispatchers (<see cref="LocalDurableTaskWorker"/>), and the client
    /// (<see cref="LocalDurableTaskClient"/>), both on <paramref name="hub"/> and both with the workflow's JSON
    /// (<see cref="DurableJson.Options"/>).
    /// </summary>
    public static IServiceCollection AddDurableTask(this IServiceCollection services, LocalTaskHub hub, Action<DurableTaskRegistry>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(hub);
        var converter = new JsonDataConverter(DurableJson.Options);
        services.AddSingleton(hub);
        services.AddDurableTaskWorker(worker =>
        {
            worker.AddTasks(registry =>
            {
                registry.AddImageJobTasks();
                configure?.Invoke(registry);
            });
            worker.UseBuildTarget<LocalDurableTaskWorker>();
            worker.Configure(o => o.DataConverter = converter);
        });
        services.AddDurableTaskClient(client =>
        {
            client.UseBuildTarget<LocalDurableTaskClient>();
            client.Configure(o => o.DataConverter = converter);
            client.RegisterDirectly();
        });
        return services;
    }

    /// <summary>Maps the jobs API (<see cref="JobsRoutes"/>) under <c>/api</c>, every route behind the function key.</summary>
    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder endpoints, string functionKey)
    {
        var api = endpoints.MapGroup("/" + JobsRoutes.Prefix).AddEndpointFilter(new FunctionKeyFilter(functionKey));
        api.MapPost(JobsRoutes.Jobs, (JobsApi jobs, DurableTaskClient client, HttpRequest request, CancellationToken ct) => jobs.StartAsync(client, request, ct));
        api.MapGet(JobsRoutes.Jobs, (DurableTaskClient client, HttpRequest request, CancellationToken ct) => JobsApi.ListAsync(client, request, ct));
        api.MapGet(JobsRoutes.Job, (JobsApi jobs, DurableTaskClient client, HttpRequest request, string id, CancellationToken ct) => jobs.GetAsync(client, request, id, ct));
        api.MapPost(JobsRoutes.Cancel, (DurableTaskClient client, string id, CancellationToken ct) => JobsApi.CancelAsync(client, id, ct));
        api.MapPost(JobsRoutes.Event, (DurableTaskClient client, HttpRequest request, string id, string name, CancellationToken ct) =>
            JobsApi.RaiseEventAsync(client, request, id, name, ct));
        api.MapDelete(JobsRoutes.Job, (JobsApi jobs, DurableTaskClient client, HttpRequest request, string id, CancellationToken ct) => jobs.PurgeAsync(client, request, id, ct));
        return api;
    }
}
