// Mirrors Microsoft.Azure.Functions.Worker.Extensions.Http (dependency of
// Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore 2.1.1).
// Source: Azure/azure-functions-dotnet-worker, extensions/Worker.Extensions.Http/src/HttpTriggerAttribute.cs,
// AuthorizationLevel.cs. Declarations only: no behaviour.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

public enum AuthorizationLevel
{
    Anonymous,
    User,
    Function,
    System,
    Admin,
}

public sealed class HttpTriggerAttribute : TriggerBindingAttribute
{
    public HttpTriggerAttribute() => throw null!;

    // Defaults the level to Anonymous (the real behaviour): always pass the level explicitly.
    public HttpTriggerAttribute(params string[] methods) => throw null!;

    public HttpTriggerAttribute(AuthorizationLevel authLevel) => throw null!;

    public HttpTriggerAttribute(AuthorizationLevel authLevel, params string[] methods) => throw null!;

    public string? Route { get; set; }

    public string[]? Methods => throw null!;

    public AuthorizationLevel AuthLevel => throw null!;
}
