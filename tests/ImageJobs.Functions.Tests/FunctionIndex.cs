using System.Collections.ObjectModel;
using System.Reflection;
using ImageJobs.Functions.Triggers;
using Microsoft.Azure.Functions.Worker;

namespace ImageJobs.Functions.Tests;

/// <summary>One <c>[Function]</c> method of the app, read without instantiating any attribute.</summary>
internal sealed record FunctionEntry(string Name, MethodInfo Method)
{
    /// <summary>The parameter carrying a trigger or binding attribute of type <paramref name="attribute"/>, if any.</summary>
    public (ParameterInfo Parameter, CustomAttributeData Data)? Binding(Type attribute) =>
        Method.GetParameters()
            .SelectMany(p => p.GetCustomAttributesData().Where(a => a.AttributeType == attribute).Select(a => (p, a)))
            .Select(x => ((ParameterInfo, CustomAttributeData)?)x)
            .SingleOrDefault();

    public override string ToString() => $"{Name} ({Method.DeclaringType!.Name}.{Method.Name})";
}

/// <summary>Every function of ImageJobs.Functions, found the way the Functions SDK finds them: <c>[Function]</c> on public methods.</summary>
internal static class FunctionIndex
{
    public static Assembly App { get; } = typeof(WorkflowFunctions).Assembly;

    public static IReadOnlyList<FunctionEntry> All { get; } =
        [.. App.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .SelectMany(m => m.GetCustomAttributesData()
                .Where(a => a.AttributeType == typeof(FunctionAttribute))
                .Select(a => new FunctionEntry((string)a.ConstructorArguments[0].Value!, m)))];

    public static IReadOnlyList<FunctionEntry> WithTrigger(Type attribute) => [.. All.Where(f => f.Binding(attribute) is not null)];

    public static object? Named(CustomAttributeData data, string name) =>
        data.NamedArguments.Where(a => a.MemberName == name).Select(a => a.TypedValue.Value).SingleOrDefault();

    public static IReadOnlyList<string> Strings(CustomAttributeTypedArgument argument) =>
        argument.Value is ReadOnlyCollection<CustomAttributeTypedArgument> items ? [.. items.Select(i => (string)i.Value!)] : [];
}
