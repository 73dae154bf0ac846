using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Http;
using ImageJobs.Workflow.Triggers;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageJobs.Functions.Durable;

/// <summary>
/// The workflow services that need an <see cref="IOrchestrationClient"/>, built per invocation: in Azure Functions the
/// client exists only as a <c>[DurableClient]</c> binding, never in DI.
/// </summary>
/// <param name="services">The app's services, for every other constructor argument.</param>
public sealed class DurableClientServices(IServiceProvider services)
{
    /// <summary>The jobs HTTP API on <paramref name="client"/>.</summary>
    /// <param name="client">The bound client.</param>
    public JobsApi JobsApi(DurableTaskClient client)
    {
        var adapter = new DurableClientAdapter(client);
        return ActivatorUtilities.CreateInstance<JobsApi>(services, adapter, ActivatorUtilities.CreateInstance<JobIntake>(services, adapter));
    }

    /// <summary>The job intake on <paramref name="client"/>.</summary>
    /// <param name="client">The bound client.</param>
    public JobIntake Intake(DurableTaskClient client) =>
        ActivatorUtilities.CreateInstance<JobIntake>(services, new DurableClientAdapter(client));
}

/// <summary>Registrations of the Functions app's durable adapters.</summary>
public static class DurableServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DurableClientServices"/>, and removes the DI registrations of <see cref="JobsApi"/> and
    /// <see cref="JobIntake"/> that <c>AddImageJobs</c> makes for hosts with a client in DI: here nothing could satisfy
    /// their <see cref="IOrchestrationClient"/> (and the Development host validates every registration at start).
    /// </summary>
    public static IServiceCollection AddDurableClientAdapter(this IServiceCollection services)
    {
        services.RemoveAll<JobsApi>();
        services.RemoveAll<JobIntake>();
        services.TryAddSingleton<DurableClientServices>();
        return services;
    }

    /// <summary>
    /// Makes the worker's serializer, which Durable uses for inputs, outputs, activity bindings and custom status,
    /// <see cref="DurableJson.Options"/>: the same JSON as the embedded engine (the jobs API shows it as is).
    /// </summary>
    public static IServiceCollection UseDurableJson(this IServiceCollection services) =>
        services.Configure<Microsoft.Azure.Functions.Worker.WorkerOptions>(
            options => options.Serializer = new Azure.Core.Serialization.JsonObjectSerializer(DurableJson.Options));
}
