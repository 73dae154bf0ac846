// Mirrors Microsoft.Azure.Functions.Worker 2.52.0 (FunctionAttribute ships in its Core/Abstractions layer).
// Source: Azure/azure-functions-dotnet-worker. Declarations only: no behaviour.
namespace Microsoft.Azure.Functions.Worker;

// Marks a method as a function entry point; the name is the function's name in the host.
[AttributeUsage(AttributeTargets.Method)]
public sealed class FunctionAttribute : Attribute
{
    public FunctionAttribute(string name) => throw null!;

    public string Name => throw null!;
}
