using ImageJobs.Workflow.Durable;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Durable;

/// <summary>How the engine invokes one orchestration: input JSON in, output JSON out.</summary>
internal sealed record OrchestrationRegistration(
    string Name, Func<IServiceProvider, IOrchestrationContext, string?, Task<string?>> Invoke);

/// <summary>How the engine invokes one activity: input JSON in, output JSON out.</summary>
internal sealed record ActivityRegistration(
    string Name, Func<IServiceProvider, string?, CancellationToken, Task<string?>> Invoke);

internal static class Registrations
{
    public static OrchestrationRegistration ForOrchestration<TInput, TOutput>(string name, Func<IOrchestrationContext, TInput, Task<TOutput>> run) =>
        new(name, async (_, context, json) =>
        {
            var input = DurableJson.Deserialize<TInput>(json);
            var output = await run(context, input!);
            return DurableJson.Serialize(output);
        });

    public static OrchestrationRegistration ForOrchestrationType(string name, Type type)
    {
        var contract = FindContract(type, typeof(IOrchestration<,>));
        var method = typeof(Registrations).GetMethod(nameof(ForOrchestrationTypeCore), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type, contract.GenericTypeArguments[0], contract.GenericTypeArguments[1]);
        return (OrchestrationRegistration)method.Invoke(null, [name])!;
    }

    public static ActivityRegistration ForActivity<TInput, TOutput>(string name, Func<TInput, CancellationToken, Task<TOutput>> run) =>
        new(name, async (_, json, ct) =>
        {
            var input = DurableJson.Deserialize<TInput>(json);
            var output = await run(input!, ct);
            return DurableJson.Serialize(output);
        });

    public static ActivityRegistration ForActivityType(string name, Type type)
    {
        var contract = FindContract(type, typeof(IActivity<,>));
        var method = typeof(Registrations).GetMethod(nameof(ForActivityTypeCore), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type, contract.GenericTypeArguments[0], contract.GenericTypeArguments[1]);
        return (ActivityRegistration)method.Invoke(null, [name])!;
    }

    private static OrchestrationRegistration ForOrchestrationTypeCore<TOrchestration, TInput, TOutput>(string name)
        where TOrchestration : IOrchestration<TInput, TOutput> =>
        new(name, async (services, context, json) =>
        {
            var orchestration = ActivatorUtilities.GetServiceOrCreateInstance<TOrchestration>(services);
            var input = DurableJson.Deserialize<TInput>(json);
            var output = await orchestration.RunAsync(context, input!);
            return DurableJson.Serialize(output);
        });

    private static ActivityRegistration ForActivityTypeCore<TActivity, TInput, TOutput>(string name)
        where TActivity : IActivity<TInput, TOutput> =>
        new(name, async (services, json, ct) =>
        {
            var scopes = services.GetService<IServiceScopeFactory>();
            await using var scope = scopes?.CreateAsyncScope();
            var activity = ActivatorUtilities.GetServiceOrCreateInstance<TActivity>(scope?.ServiceProvider ?? services);
            var input = DurableJson.Deserialize<TInput>(json);
            var output = await activity.RunAsync(input!, ct);
            return DurableJson.Serialize(output);
        });

    private static Type FindContract(Type type, Type openContract) =>
        type.GetInterfaces().SingleOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == openContract)
        ?? throw new ArgumentException($"{type.FullName} does not implement {openContract.Name}.", nameof(type));
}
