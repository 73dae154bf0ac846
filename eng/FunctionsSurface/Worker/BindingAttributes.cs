// Mirrors Microsoft.Azure.Functions.Worker.Extensions.Abstractions (the version Microsoft.Azure.Functions.Worker 2.52.0
// depends on). Source: Azure/azure-functions-dotnet-worker, extensions/Worker.Extensions.Abstractions/src/.
// Declarations only: no behaviour.
namespace Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

[AttributeUsage(AttributeTargets.Method)]
public abstract class BindingAttribute : Attribute
{
}

[AttributeUsage(AttributeTargets.Parameter)]
public abstract class InputBindingAttribute : BindingAttribute
{
}

[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property)]
public abstract class OutputBindingAttribute : BindingAttribute
{
}

[AttributeUsage(AttributeTargets.Parameter)]
public abstract class TriggerBindingAttribute : BindingAttribute
{
}

[AttributeUsage(AttributeTargets.Assembly)]
public class ExtensionInformationAttribute : Attribute
{
    public ExtensionInformationAttribute(string extensionPackage, string extensionVersion) => throw null!;

    public ExtensionInformationAttribute(string extensionPackage, string extensionVersion, bool enableImplicitRegistration)
        => throw null!;

    public ExtensionInformationAttribute(
        string extensionPackage, string extensionVersion, bool enableImplicitRegistration, bool supportsReferenceType)
        => throw null!;

    public string ExtensionPackage => throw null!;

    public string ExtensionVersion => throw null!;

    public bool EnableImplicitRegistration => throw null!;

    public bool SupportsReferenceType => throw null!;
}
