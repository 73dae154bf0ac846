// Mirrors Microsoft.DurableTask.Client, the version Microsoft.Azure.Functions.Worker.Extensions.DurableTask 1.16.5
// brings in (through Microsoft.DurableTask.Client.Grpc).
// Source: microsoft/durabletask-dotnet, src/Client/Core/DurableTaskClient.cs (commit 208aade), OrchestrationMetadata.cs,
// OrchestrationRuntimeStatus.cs, OrchestrationQuery.cs, PurgeInstanceOptions.cs, PurgeResult.cs,
// TerminateInstanceOptions.cs. Not mirrored: entities, PurgeAllInstancesAsync filters, restart/rewind, history.
// Declarations only: no behaviour.
namespace Microsoft.DurableTask.Client;

public abstract class DurableTaskClient : IAsyncDisposable
{
    protected DurableTaskClient(string name) => throw null!;

    public string Name => throw null!;

    public virtual Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, CancellationToken cancellation)
        => throw null!;

    public virtual Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input, CancellationToken cancellation)
        => throw null!;

    public virtual Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, StartOrchestrationOptions options, CancellationToken cancellation = default)
        => throw null!;

    public abstract Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName,
        object? input = null,
        StartOrchestrationOptions? options = null,
        CancellationToken cancellation = default);

    public virtual Task RaiseEventAsync(string instanceId, string eventName, CancellationToken cancellation)
        => throw null!;

    public abstract Task RaiseEventAsync(
        string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default);

    public virtual Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, CancellationToken cancellation)
        => throw null!;

    public abstract Task<OrchestrationMetadata> WaitForInstanceStartAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    public virtual Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(
        string instanceId, CancellationToken cancellation)
        => throw null!;

    public abstract Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    public virtual Task TerminateInstanceAsync(string instanceId, CancellationToken cancellation) => throw null!;

    public virtual Task TerminateInstanceAsync(string instanceId, object? output, CancellationToken cancellation = default)
        => throw null!;

    public virtual Task TerminateInstanceAsync(
        string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
        => throw null!;

    public virtual Task SuspendInstanceAsync(string instanceId, CancellationToken cancellation) => throw null!;

    public abstract Task SuspendInstanceAsync(
        string instanceId, string? reason = null, CancellationToken cancellation = default);

    public virtual Task ResumeInstanceAsync(string instanceId, CancellationToken cancellation) => throw null!;

    public abstract Task ResumeInstanceAsync(
        string instanceId, string? reason = null, CancellationToken cancellation = default);

    public virtual Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, CancellationToken cancellation)
        => throw null!;

    public virtual Task<OrchestrationMetadata?> GetInstanceAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
        => throw null!;

    public virtual Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, CancellationToken cancellation)
        => throw null!;

    public abstract Task<OrchestrationMetadata?> GetInstancesAsync(
        string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

    public abstract AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null);

    public virtual Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellation)
        => throw null!;

    public virtual Task<PurgeResult> PurgeInstanceAsync(
        string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
        => throw null!;

    public abstract ValueTask DisposeAsync();
}

public sealed class OrchestrationMetadata
{
    public OrchestrationMetadata(string name, string instanceId) => throw null!;

    public string Name => throw null!;

    public string InstanceId => throw null!;

    public OrchestrationRuntimeStatus RuntimeStatus { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastUpdatedAt { get; init; }

    public string? SerializedInput { get; init; }

    public string? SerializedOutput { get; init; }

    public string? SerializedCustomStatus { get; init; }

    public TaskFailureDetails? FailureDetails { get; init; }

    public bool IsRunning => throw null!;

    public bool IsCompleted => throw null!;

    public T? ReadInputAs<T>() => throw null!;

    public T? ReadOutputAs<T>() => throw null!;

    public T? ReadCustomStatusAs<T>() => throw null!;
}

public enum OrchestrationRuntimeStatus
{
    Running,
    Completed,
    [Obsolete("The ContinuedAsNew status is obsolete and exists only for compatibility reasons.")]
    ContinuedAsNew,
    Failed,
    [Obsolete("The Canceled status is not currently used and exists only for compatibility reasons.")]
    Canceled,
    Terminated,
    Pending,
    Suspended,
}

public record OrchestrationQuery(
    DateTimeOffset? CreatedFrom = null,
    DateTimeOffset? CreatedTo = null,
    IEnumerable<OrchestrationRuntimeStatus>? Statuses = null,
    IEnumerable<string>? TaskHubNames = null,
    string? InstanceIdPrefix = null,
    int PageSize = OrchestrationQuery.DefaultPageSize,
    bool FetchInputsAndOutputs = false,
    string? ContinuationToken = null)
{
    public const int DefaultPageSize = 100;
}

public record PurgeInstanceOptions(bool Recursive = false);

public class PurgeResult
{
    public PurgeResult(int count, bool? isComplete) => throw null!;

    public int PurgedInstanceCount => throw null!;

    public bool? IsComplete => throw null!;
}

public record TerminateInstanceOptions
{
    public TerminateInstanceOptions(object? output = null, bool recursive = true) => throw null!;

    public object? Output { get; init; }

    public bool Recursive { get; init; }
}
