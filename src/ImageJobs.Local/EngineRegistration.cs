using System.Reflection;
using ImageJobs.Durable;

namespace ImageJobs.Local;

/// <summary>Registers workflow classes known only by <see cref="Type"/> (from the catalog) with the engine's generic methods.</summary>
internal static class EngineRegistration
{
    private static readonly MethodInfo s_addOrchestration = GenericByName(nameof(DurableEngineBuilder.AddOrchestration));
    private static readonly MethodInfo s_addActivity = GenericByName(nameof(DurableEngineBuilder.AddActivity));

    public static DurableEngineBuilder AddOrchestrationType(this DurableEngineBuilder builder, string name, Type type) =>
        (DurableEngineBuilder)s_addOrchestration.MakeGenericMethod(type).Invoke(builder, [name])!;

    public static DurableEngineBuilder AddActivityType(this DurableEngineBuilder builder, string name, Type type) =>
        (DurableEngineBuilder)s_addActivity.MakeGenericMethod(type).Invoke(builder, [name])!;

    private static MethodInfo GenericByName(string name) =>
        typeof(DurableEngineBuilder).GetMethods().Single(m => m.Name == name && m.IsGenericMethodDefinition && m.GetGenericArguments().Length == 1);
}
