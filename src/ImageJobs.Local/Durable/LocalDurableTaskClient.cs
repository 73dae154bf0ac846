using System.Collections.Immutable;
using System.Diagnostics;
using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using DurableTask.Core.Tracing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using CoreQuery = DurableTask.Core.Query.OrchestrationQuery;
using OrchestrationQuery = Microsoft.DurableTask.Client.OrchestrationQuery;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace ImageJobs.Local.Durable;

/// <summary>
/// A Microsoft.DurableTask <see cref="DurableTaskClient"/> over the Durable Task Framework's provider client
/// (<see cref="IOrchestrationServiceClient"/> with its query and purge interfaces), so the jobs API, the triggers and the
/// tests talk to the local hub through the same client type as in Azure. This is the small adapter the
/// Microsoft.DurableTask.Client.OrchestrationServiceClientShim package would be; that package is not served here.
/// Registered with <c>AddDurableTaskClient(b =&gt; b.UseBuildTarget&lt;LocalDurableTaskClient&gt;())</c>. Entities,
/// rewind and restart are not supported (the workflow has none).
/// </summary>
public sealed class LocalDurableTaskClient : DurableTaskClient
{
    /// <summary>The statuses a start refuses to replace when the caller names none: an instance still running.</summary>
    private static readonly CoreStatus[] RunningStatuses = [CoreStatus.Pending, CoreStatus.Running, CoreStatus.Suspended];

    /// <summary>The first and the longest pause between two reads while waiting for an instance.</summary>
    private static readonly TimeSpan FirstWaitPoll = TimeSpan.FromMilliseconds(100), LongestWaitPoll = TimeSpan.FromSeconds(1);

    private readonly IOrchestrationServiceClient _client;
    private readonly IOrchestrationServiceQueryClient _query;
    private readonly IOrchestrationServicePurgeClient _purge;
    private readonly DataConverter _converter;

    /// <summary>Creates the client; the builder calls this.</summary>
    /// <param name="name">The client's name (its options' name).</param>
    /// <param name="hub">The task hub.</param>
    /// <param name="options">The client options (the data converter).</param>
    public LocalDurableTaskClient(string name, LocalTaskHub hub, IOptionsMonitor<DurableTaskClientOptions> options)
        : this(name, (hub ?? throw new ArgumentNullException(nameof(hub))).Service, (options ?? throw new ArgumentNullException(nameof(options))).Get(name).DataConverter)
    {
    }

    /// <summary>Creates a client over any provider client that can also query and purge.</summary>
    internal LocalDurableTaskClient(string name, IOrchestrationServiceClient client, DataConverter converter)
        : base(name)
    {
        _client = client;
        _query = client as IOrchestrationServiceQueryClient ?? throw new NotSupportedException("The provider cannot query instances.");
        _purge = client as IOrchestrationServicePurgeClient ?? throw new NotSupportedException("The provider cannot purge instances.");
        _converter = converter;
    }

    /// <summary>
    /// Starts an instance. With dedupe statuses, an instance in one of them makes the provider throw
    /// <see cref="DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"/>; with none, a pending, running or
    /// suspended instance does (an ended one is replaced), as in Durable Functions.
    /// </summary>
    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var instance = new OrchestrationInstance
        {
            InstanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N"),
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var started = new ExecutionStartedEvent(-1, _converter.Serialize(input))
        {
            Name = orchestratorName.Name,
            Version = options?.Version?.ToString() ?? string.Empty,
            OrchestrationInstance = instance,
            ScheduledStartTime = options?.StartAt?.UtcDateTime,
            Tags = options?.Tags?.ToDictionary(tag => tag.Key, tag => tag.Value),
            ParentTraceContext = Activity.Current is { Id: { } id } activity ? new DistributedTraceContext(id, activity.TraceStateString) : null,
        };
        var dedupe = options?.DedupeStatuses is { Count: > 0 } given
            ? [.. given.Select(status => ToCore(Enum.Parse<OrchestrationRuntimeStatus>(status, ignoreCase: true)))]
            : RunningStatuses;
        await _client.CreateTaskOrchestrationAsync(new TaskMessage { OrchestrationInstance = instance, Event = started }, dedupe);
        return instance.InstanceId;
    }

    /// <inheritdoc />
    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        return SendAsync(instanceId, new EventRaisedEvent(-1, _converter.Serialize(eventPayload)) { Name = eventName }, cancellation);
    }

    /// <inheritdoc />
    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        cancellation.ThrowIfCancellationRequested();
        return _client.ForceTerminateTaskOrchestrationAsync(instanceId, _converter.Serialize(options?.Output));
    }

    /// <inheritdoc />
    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionSuspendedEvent(-1, reason), cancellation);

    /// <inheritdoc />
    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionResumedEvent(-1, reason), cancellation);

    /// <inheritdoc />
    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        cancellation.ThrowIfCancellationRequested();
        // The Azure Storage provider answers an unknown instance with one null entry.
        var states = await _client.GetOrchestrationStateAsync(instanceId, allExecutions: false);
        return states is { Count: > 0 } && states[0] is { } state ? ToMetadata(state, getInputsAndOutputs) : null;
    }

    /// <inheritdoc />
    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (continuation, pageSize, cancellation) =>
        {
            var query = new CoreQuery
            {
                RuntimeStatus = filter?.Statuses?.Select(ToCore).ToList(),
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime,
                TaskHubNames = filter?.TaskHubNames?.ToList(),
                PageSize = pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize,
                ContinuationToken = continuation ?? filter?.ContinuationToken,
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                FetchInputsAndOutputs = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await _query.GetOrchestrationWithQueryAsync(query, cancellation);
            return new Page<OrchestrationMetadata>(
                [.. result.OrchestrationState.Select(state => ToMetadata(state, query.FetchInputsAndOutputs))], result.ContinuationToken);
        });

    /// <inheritdoc />
    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await WaitAsync(instanceId, getInputsAndOutputs, state => state.RuntimeStatus != OrchestrationRuntimeStatus.Pending, cancellation);

    /// <inheritdoc />
    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await WaitAsync(instanceId, getInputsAndOutputs, state => state.IsCompleted, cancellation);

    /// <summary>Purges an ended instance's history and state; a running one is refused with <see cref="InvalidOperationException"/>.</summary>
    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        if (await GetInstancesAsync(instanceId, getInputsAndOutputs: false, cancellation) is not { } instance)
        {
            return new PurgeResult(0);
        }

        if (!instance.IsCompleted)
        {
            throw new InvalidOperationException($"Only an ended instance can be purged; '{instanceId}' is {instance.RuntimeStatus}.");
        }

        return new PurgeResult((await _purge.PurgeInstanceStateAsync(instanceId)).DeletedInstanceCount);
    }

    /// <inheritdoc />
    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        cancellation.ThrowIfCancellationRequested();
        var result = await _purge.PurgeInstanceStateAsync(new PurgeInstanceFilter(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue, filter.CreatedTo?.UtcDateTime, filter.Statuses?.Select(ToCore)));
        return new PurgeResult(result.DeletedInstanceCount);
    }

    /// <summary>Nothing to release: the hub owns the provider.</summary>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task SendAsync(string instanceId, HistoryEvent message, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        cancellation.ThrowIfCancellationRequested();
        return _client.SendTaskOrchestrationMessageAsync(new TaskMessage { OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId }, Event = message });
    }

    // Reads the instance until it is there and done, pausing 100 ms, doubling to 1 s (the provider's own wait reads
    // every 2 s).
    private async Task<OrchestrationMetadata> WaitAsync(
        string instanceId, bool getInputsAndOutputs, Func<OrchestrationMetadata, bool> done, CancellationToken cancellation)
    {
        for (var pause = FirstWaitPoll; ; pause = pause * 2 < LongestWaitPoll ? pause * 2 : LongestWaitPoll)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation) is { } instance && done(instance))
            {
                return instance;
            }

            await Task.Delay(pause, cancellation);
        }
    }

    private OrchestrationMetadata ToMetadata(OrchestrationState state, bool getInputsAndOutputs) =>
        new(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = getInputsAndOutputs ? _converter : null,
            RuntimeStatus = (OrchestrationRuntimeStatus)(int)state.OrchestrationStatus,
            CreatedAt = state.CreatedTime,
            LastUpdatedAt = state.LastUpdatedTime,
            SerializedInput = getInputsAndOutputs ? state.Input : null,
            SerializedOutput = getInputsAndOutputs ? state.Output : null,
            SerializedCustomStatus = state.Status,
            FailureDetails = ToFailureDetails(state.FailureDetails),
            Tags = state.Tags is { } tags ? tags.AsReadOnly() : ImmutableDictionary<string, string>.Empty,
        };

    private static TaskFailureDetails? ToFailureDetails(FailureDetails? details) =>
        details is null ? null : new(details.ErrorType, details.ErrorMessage, details.StackTrace, ToFailureDetails(details.InnerFailure), Properties: null);

    // Microsoft.DurableTask's statuses carry the framework's numbers (Running 0 … Suspended 7).
    private static CoreStatus ToCore(OrchestrationRuntimeStatus status) => (CoreStatus)(int)status;
}
