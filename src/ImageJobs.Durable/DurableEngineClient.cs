using ImageJobs.Durable.Model;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable;

/// <summary>The engine's <see cref="IOrchestrationClient"/>: works on the store and wakes the engine.</summary>
internal sealed class DurableEngineClient(DurableEngine engine) : IOrchestrationClient
{
    public async Task<string> ScheduleNewOrchestrationInstanceAsync(
        string orchestratorName, object? input = null, ScheduleOrchestrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(orchestratorName);
        ThrowIfDisposed();
        if (!engine.IsRegistered(orchestratorName))
        {
            throw new ArgumentException($"No orchestration named '{orchestratorName}' is registered with this engine.", nameof(orchestratorName));
        }

        var instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        ArgumentException.ThrowIfNullOrEmpty(instanceId, nameof(options));
        var now = engine.Now;
        var record = DurableEngine.NewRecord(instanceId, orchestratorName, DurableJson.Serialize(input), options?.StartAt?.UtcDateTime, now);
        if (await engine.Store.TryCreateAsync(record.ToIndex(), DurableEngine.Serialize(record), cancellationToken) is null)
        {
            var existing = await engine.ReadAsync(instanceId, cancellationToken);
            if (existing is { Record: var r } && !string.Equals(r.Name, orchestratorName, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Instance '{instanceId}' already exists and runs orchestration '{r.Name}', not '{orchestratorName}'.");
            }

            if (existing is null)
            {
                // Purged between the two calls: try once more.
                return await ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, options, cancellationToken);
            }

            return instanceId;
        }

        EngineLog.Scheduled(engine.Logger, instanceId, orchestratorName);
        engine.Signal(instanceId);
        return instanceId;
    }

    public async Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var read = await engine.ReadAsync(instanceId, cancellationToken);
        return read is null ? null : ToInstance(read.Value.Record, getInputsAndOutputs);
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        await SendAsync(instanceId, new HistoryEvent
        {
            Kind = EventKind.EventRaised, Name = eventName, Data = DurableJson.Serialize(eventPayload), Timestamp = engine.Now,
        }, cancellationToken);
    }

    public Task TerminateInstanceAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default) =>
        SendAsync(instanceId, new HistoryEvent { Kind = EventKind.ExecutionTerminated, Data = DurableJson.Serialize(output), Timestamp = engine.Now }, cancellationToken);

    public Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(instanceId, new HistoryEvent { Kind = EventKind.ExecutionSuspended, Data = reason, Timestamp = engine.Now }, cancellationToken);

    public Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(instanceId, new HistoryEvent { Kind = EventKind.ExecutionResumed, Data = reason, Timestamp = engine.Now }, cancellationToken);

    private async Task SendAsync(string instanceId, HistoryEvent message, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ThrowIfDisposed();
        if (!await engine.AppendToInboxAsync(instanceId, message, cancellationToken)
            && await engine.Store.ReadAsync(instanceId, cancellationToken) is null)
        {
            throw new InvalidOperationException($"No orchestration instance with id '{instanceId}' exists.");
        }
    }

    public async Task<int> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        while (true)
        {
            var document = await engine.Store.ReadAsync(instanceId, cancellationToken);
            if (document is null || !DurableEngine.Deserialize(document).Status.IsTerminal())
            {
                return 0;
            }

            if (await engine.Store.TryDeleteAsync(instanceId, document.ETag, cancellationToken))
            {
                return 1;
            }
        }
    }

    public async Task<OrchestrationQueryPage> QueryInstancesAsync(OrchestrationInstanceQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new OrchestrationInstanceQuery();
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1);
        var matches = new List<InstanceIndex>();
        var hasMore = false;
        await foreach (var index in engine.Store.ListAsync(query.InstanceIdPrefix, query.ContinuationToken, cancellationToken))
        {
            if ((query.Statuses is { Count: > 0 } statuses && !statuses.Contains(index.Status))
                || (query.CreatedFrom is { } from && index.CreatedAt < from.UtcDateTime)
                || (query.CreatedTo is { } to && index.CreatedAt > to.UtcDateTime))
            {
                continue;
            }

            if (matches.Count == query.PageSize)
            {
                hasMore = true;
                break;
            }

            matches.Add(index);
        }

        var instances = new List<OrchestrationInstance>(matches.Count);
        foreach (var index in matches)
        {
            if (query.FetchInputsAndOutputs)
            {
                if (await GetInstanceAsync(index.InstanceId, true, cancellationToken) is { } full)
                {
                    instances.Add(full);
                }
            }
            else
            {
                instances.Add(new OrchestrationInstance(index.Name, index.InstanceId)
                {
                    RuntimeStatus = index.Status,
                    CreatedAt = new DateTimeOffset(index.CreatedAt, TimeSpan.Zero),
                    LastUpdatedAt = new DateTimeOffset(index.LastUpdatedAt, TimeSpan.Zero),
                });
            }
        }

        return new OrchestrationQueryPage(instances, hasMore ? matches[^1].InstanceId : null);
    }

    public async Task<OrchestrationInstance> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        while (true)
        {
            var changed = engine.WhenChanged(instanceId);
            var instance = await GetInstanceAsync(instanceId, getInputsAndOutputs, cancellationToken)
                ?? throw new InvalidOperationException($"No orchestration instance with id '{instanceId}' exists.");
            if (instance.IsCompleted)
            {
                return instance;
            }

            // Changes committed by this engine wake us at once; changes by other engines are seen by polling.
            await Task.WhenAny(changed, Task.Delay(engine.Options.ClientPollingInterval, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static OrchestrationInstance ToInstance(InstanceRecord record, bool withPayloads) => new(record.Name, record.InstanceId)
    {
        RuntimeStatus = record.Status,
        CreatedAt = new DateTimeOffset(record.CreatedAt, TimeSpan.Zero),
        LastUpdatedAt = new DateTimeOffset(record.LastUpdatedAt, TimeSpan.Zero),
        SerializedInput = withPayloads ? record.Input : null,
        SerializedOutput = withPayloads ? record.Output : null,
        SerializedCustomStatus = withPayloads ? record.CustomStatus : null,
        FailureDetails = record.Failure,
    };

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(engine.IsDisposed, engine);
}
