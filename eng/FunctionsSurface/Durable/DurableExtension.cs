// Mirrors Microsoft.Azure.Functions.Worker.Extensions.DurableTask 1.16.5.
// Source: Azure/azure-functions-durable-extension, src/Worker.Extensions.DurableTask/OrchestrationTriggerAttribute.cs,
// ActivityTriggerAttribute.cs, DurableClientAttribute.cs, DurableTaskClientExtensions.cs, HttpManagementPayload.cs.
// Declarations only: no behaviour.
using System.Net;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;

namespace Microsoft.Azure.Functions.Worker;

public sealed class OrchestrationTriggerAttribute : TriggerBindingAttribute
{
}

public sealed class ActivityTriggerAttribute : TriggerBindingAttribute
{
}

public sealed class DurableClientAttribute : InputBindingAttribute
{
    public string? TaskHub { get; set; }

    public string? ConnectionName { get; set; }
}

public static class DurableTaskClientExtensions
{
    public static Task<HttpResponseData> WaitForCompletionOrCreateCheckStatusResponseAsync(
        this DurableTaskClient client,
        HttpRequestData request,
        string instanceId,
        TimeSpan? retryInterval = null,
        bool returnInternalServerErrorOnFailure = false,
        bool getInputsAndOutputs = false,
        CancellationToken cancellation = default)
        => throw null!;

    public static Task<HttpResponseData> CreateCheckStatusResponseAsync(
        this DurableTaskClient client, HttpRequestData request, string instanceId, CancellationToken cancellation = default)
        => throw null!;

    public static Task<HttpResponseData> CreateCheckStatusResponseAsync(
        this DurableTaskClient client,
        HttpRequestData request,
        string instanceId,
        HttpStatusCode statusCode,
        CancellationToken cancellation = default)
        => throw null!;

    // Throws under the ASP.NET Core integration (synchronous body write): use CreateCheckStatusResponseAsync.
    public static HttpResponseData CreateCheckStatusResponse(
        this DurableTaskClient client, HttpRequestData request, string instanceId, CancellationToken cancellation = default)
        => throw null!;

    public static HttpManagementPayload CreateHttpManagementPayload(
        this DurableTaskClient client, string instanceId, HttpRequestData? request = null)
        => throw null!;
}

// The URIs carry the durabletask system key: never hand them to untrusted callers.
public class HttpManagementPayload
{
    public string Id { get; internal set; } = null!;

    public string StatusQueryGetUri { get; internal set; } = null!;

    public string SendEventPostUri { get; internal set; } = null!;

    public string TerminatePostUri { get; internal set; } = null!;

    public string RewindPostUri { get; internal set; } = null!;

    public string PurgeHistoryDeleteUri { get; internal set; } = null!;

    public string RestartPostUri { get; internal set; } = null!;

    public string SuspendPostUri { get; internal set; } = null!;

    public string ResumePostUri { get; internal set; } = null!;
}
