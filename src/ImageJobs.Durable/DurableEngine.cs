using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using ImageJobs.Durable.Model;
using ImageJobs.Durable.Replay;
using ImageJobs.Durable.Storage;
using ImageJobs.Workflow.Durable;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Durable;

/// <summary>
/// The embedded durable engine: runs orchestrations by event-sourced replay and activities on the thread pool, over an
/// <see cref="IDurableStore"/>. Build it with <see cref="DurableEngineBuilder"/>, call <see cref="StartAsync"/>, use
/// <see cref="Client"/>. Disposing it simulates a crash: processing stops and nothing in flight is completed.
/// </summary>
/// <remarks>
/// <para>Every instance is one document: status, history, inbox (unprocessed messages), pending activities (durable work
/// items with a lease), pending timers and an outbox. Every change is a read-modify-write with the document's ETag,
/// so engines sharing a task hub never corrupt an instance: the commit is the proof of ownership, and side effects
/// (activities, children, events to other instances) happen only after it.</para>
/// <para>An episode replays the history into fresh orchestrator code and delivers the inbox; activities are claimed
/// with a lease (renewed while they run) so that exactly one engine runs each attempt, and a dead engine's activity is
/// taken over when its lease expires. Timers live in one priority queue and are re-armed from the documents on start.</para>
/// </remarks>
public sealed class DurableEngine : IAsyncDisposable
{
    private const int Queued = 1;
    private const int Running = 2;
    private const int RunningDirty = 3;

    internal static readonly JsonSerializerOptions RecordJson = CreateRecordJson();

    private readonly IDurableStore _store;
    private readonly DurableEngineOptions _options;
    private readonly Dictionary<string, OrchestrationRegistration> _orchestrations;
    private readonly Dictionary<string, ActivityRegistration> _activities;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimerQueue _timers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<string> _orchestrationQueue = Channel.CreateUnbounded<string>();
    private readonly Channel<ActivityWorkItem> _activityQueue = Channel.CreateUnbounded<ActivityWorkItem>();
    private readonly ConcurrentDictionary<string, int> _instanceStates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _localActivities = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<BufferedCompletion>> _completions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changeSignals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _armedWakeUps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoredDocument> _documents = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];
    private int _started;
    private int _disposed;

    internal DurableEngine(
        IDurableStore store,
        DurableEngineOptions options,
        IEnumerable<OrchestrationRegistration> orchestrations,
        IEnumerable<ActivityRegistration> activities,
        IServiceProvider services,
        ILoggerFactory loggerFactory,
        TimeProvider time)
    {
        options.Validate();
        _store = store;
        _options = options;
        _orchestrations = orchestrations.ToDictionary(o => o.Name, StringComparer.OrdinalIgnoreCase);
        _activities = activities.ToDictionary(a => a.Name, StringComparer.OrdinalIgnoreCase);
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DurableEngine>();
        _time = time;
        _timers = new TimerQueue(time);
        EngineId = $"{Environment.MachineName}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}";
        Client = new DurableEngineClient(this);
    }

    /// <summary>This engine's identity in activity leases (unique per engine object).</summary>
    public string EngineId { get; }

    /// <summary>The client over the same store: schedule, query, raise events, terminate, purge, wait.</summary>
    public IOrchestrationClient Client { get; }

    /// <summary>The task hub.</summary>
    public string HubName => _options.HubName;

    internal IDurableStore Store => _store;

    internal DurableEngineOptions Options => _options;

    internal ILogger Logger => _logger;

    internal DateTime Now => _time.GetUtcNow().UtcDateTime;

    internal CancellationToken Stopping => _stopping.Token;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal bool IsRegistered(string orchestrationName) => _orchestrations.ContainsKey(orchestrationName);

    /// <summary>Creates the storage, resumes every unfinished instance of the hub (re-arming timers, re-queuing work), and starts processing.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        await _store.InitializeAsync(cancellationToken);
        var token = _stopping.Token;
        for (var i = 0; i < _options.MaxConcurrentOrchestratorFunctions; i++)
        {
            _loops.Add(Task.Run(() => OrchestrationLoopAsync(token), CancellationToken.None));
        }

        for (var i = 0; i < _options.MaxConcurrentActivityFunctions; i++)
        {
            _loops.Add(Task.Run(() => ActivityLoopAsync(token), CancellationToken.None));
        }

        _loops.Add(Task.Run(() => GuardAsync("timers", () => _timers.RunAsync(token)), CancellationToken.None));
        var recovered = await ScanAsync(full: true, cancellationToken);
        EngineLog.Recovered(_logger, recovered);
        _loops.Add(Task.Run(() => GuardAsync("scan", () => ScanLoopAsync(token)), CancellationToken.None));
        EngineLog.EngineStarted(_logger, EngineId, _options.HubName);
    }

    /// <summary>Stops processing at once, like a crash: nothing in flight is completed or written any more.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _orchestrationQueue.Writer.TryComplete();
        _activityQueue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loops);
        }
        catch (OperationCanceledException)
        {
            // Expected: the loops stop with the engine.
        }

        foreach (var signal in _changeSignals.Values)
        {
            signal.TrySetCanceled();
        }

        _stopping.Dispose();
        EngineLog.EngineStopped(_logger, EngineId);
    }

    // ---------------------------------------------------------------- signalling

    /// <summary>Asks for an episode of <paramref name="instanceId"/>; coalesces with one already queued or running.</summary>
    internal void Signal(string instanceId)
    {
        if (IsDisposed)
        {
            return;
        }

        while (true)
        {
            if (_instanceStates.TryAdd(instanceId, Queued))
            {
                _orchestrationQueue.Writer.TryWrite(instanceId);
                return;
            }

            if (!_instanceStates.TryGetValue(instanceId, out var state))
            {
                continue;
            }

            if (state == Running && !_instanceStates.TryUpdate(instanceId, RunningDirty, Running))
            {
                continue;
            }

            return;
        }
    }

    /// <summary>Returns a task that completes the next time this engine commits a change to the instance.</summary>
    internal Task WhenChanged(string instanceId) =>
        _changeSignals.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void NotifyChanged(string instanceId)
    {
        if (_changeSignals.TryRemove(instanceId, out var signal))
        {
            signal.TrySetResult();
        }
    }

    private async Task OrchestrationLoopAsync(CancellationToken token)
    {
        try
        {
            await foreach (var instanceId in _orchestrationQueue.Reader.ReadAllAsync(token))
            {
                _instanceStates[instanceId] = Running;
                try
                {
                    await ProcessInstanceAsync(instanceId, token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    EngineLog.ProcessingError(_logger, instanceId, ex);
                    _timers.Schedule($"retry|{instanceId}", Now.AddSeconds(1), () => Signal(instanceId));
                }

                if (!_instanceStates.TryRemove(new KeyValuePair<string, int>(instanceId, Running)))
                {
                    _instanceStates[instanceId] = Queued;
                    _orchestrationQueue.Writer.TryWrite(instanceId);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    // ---------------------------------------------------------------- documents

    internal static InstanceRecord Deserialize(StoredDocument document) =>
        document.Content.ToObjectFromJson<InstanceRecord>(RecordJson)!;

    internal static BinaryData Serialize(InstanceRecord record) => BinaryData.FromObjectAsJson(record, RecordJson);

    internal async Task<(InstanceRecord Record, string ETag)?> ReadAsync(string instanceId, CancellationToken cancellationToken)
    {
        var document = await _store.ReadAsync(instanceId, cancellationToken);
        return document is null ? null : (Deserialize(document), document.ETag);
    }

    /// <summary>Read-modify-write with the ETag, retried on conflict. <paramref name="mutate"/> returns false to write nothing.</summary>
    internal async Task<InstanceRecord?> UpdateAsync(string instanceId, Func<InstanceRecord, bool> mutate, CancellationToken cancellationToken)
    {
        while (true)
        {
            var document = await _store.ReadAsync(instanceId, cancellationToken);
            if (document is null)
            {
                return null;
            }

            var record = Deserialize(document);
            if (!mutate(record))
            {
                return null;
            }

            var content = Serialize(record);
            if (await _store.TryUpdateAsync(record.ToIndex(), content, document.ETag, cancellationToken) is { } etag)
            {
                Remember(record, content, etag);
                NotifyChanged(instanceId);
                return record;
            }

            EngineLog.Conflict(_logger, instanceId);
        }
    }

    internal async Task<bool> AppendToInboxAsync(string instanceId, HistoryEvent message, CancellationToken cancellationToken)
    {
        var updated = await UpdateAsync(instanceId, record =>
        {
            if (record.Status.IsTerminal())
            {
                return false;
            }

            record.Inbox.Add(message);
            return true;
        }, cancellationToken);
        if (updated is not null)
        {
            Signal(instanceId);
        }

        return updated is not null;
    }

    // ---------------------------------------------------------------- episodes

    /// <summary>
    /// Keeps the last version this engine wrote or read of a running instance, so that an episode it triggers itself
    /// (timer, activity result) costs one conditional write instead of a read and a write. The ETag check makes a stale
    /// copy harmless: the write fails and the episode re-reads.
    /// </summary>
    private void Remember(InstanceRecord record, BinaryData content, string etag)
    {
        if (record.Status.IsTerminal())
        {
            _documents.TryRemove(record.InstanceId, out _);
        }
        else
        {
            _documents[record.InstanceId] = new StoredDocument(content, etag);
        }
    }

    private async Task ProcessInstanceAsync(string instanceId, CancellationToken token)
    {
        var mayUseCopy = true;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            StoredDocument? document = null;
            var fromCopy = mayUseCopy && _documents.TryGetValue(instanceId, out document);
            if (!fromCopy)
            {
                document = await _store.ReadAsync(instanceId, token);
            }

            mayUseCopy = false;
            if (document is null)
            {
                ReleaseCompletions(instanceId, SnapshotCompletions(instanceId));
                return;
            }

            var record = Deserialize(document);
            var now = Now;

            // Activity results of this engine are committed together with the episode that consumes them.
            var completions = SnapshotCompletions(instanceId);
            var changed = ApplyCompletions(record, completions);
            if (record.Status.IsTerminal())
            {
                changed |= record.Inbox.Count > 0;
                record.Inbox.Clear();
            }
            else
            {
                changed |= Step(record, now);
            }

            if (!changed)
            {
                if (fromCopy)
                {
                    continue; // "Nothing to do" must come from the store, not from a possibly stale copy.
                }

                ReleaseCompletions(instanceId, completions);
                await AfterCommitAsync(record, token);
                return;
            }

            var content = Serialize(record);
            if (await _store.TryUpdateAsync(record.ToIndex(), content, document.ETag, token) is not { } etag)
            {
                _documents.TryRemove(instanceId, out _);
                EngineLog.Conflict(_logger, instanceId);
                continue;
            }

            Remember(record, content, etag);
            ReleaseCompletions(instanceId, completions);
            NotifyChanged(instanceId);
            if (record.Status.IsTerminal())
            {
                if (record.Status == OrchestrationStatus.Failed)
                {
                    EngineLog.InstanceFailed(_logger, instanceId, record.Failure?.ToString() ?? "unknown");
                }
                else
                {
                    EngineLog.Finished(_logger, instanceId, record.Status);
                }
            }

            await AfterCommitAsync(record, token);
            if (!HasRunnableInbox(record, Now))
            {
                return;
            }
        }
    }

    private static bool HasRunnableInbox(InstanceRecord record, DateTime now) =>
        !record.Status.IsTerminal() && record.Status != OrchestrationStatus.Suspended
        && record.Inbox.Exists(m => m.Kind != EventKind.ExecutionStarted || m.FireAt is null || m.FireAt <= now);

    /// <summary>Applies the inbox and due timers to a non-terminal record, running an episode if there is anything to deliver.</summary>
    private bool Step(InstanceRecord record, DateTime now)
    {
        var events = new List<HistoryEvent>();
        var deferred = new List<HistoryEvent>();
        HistoryEvent? terminate = null;
        var suspended = record.Status == OrchestrationStatus.Suspended;
        var wasSuspended = suspended;
        var inboxChanged = false;
        foreach (var message in record.Inbox)
        {
            if (message.ExecutionId is not null && message.ExecutionId != record.ExecutionId)
            {
                inboxChanged = true;
                continue;
            }

            switch (message.Kind)
            {
                case EventKind.ExecutionTerminated:
                    terminate ??= message;
                    break;
                case EventKind.ExecutionSuspended:
                    suspended = true;
                    inboxChanged = true;
                    break;
                case EventKind.ExecutionResumed:
                    suspended = false;
                    inboxChanged = true;
                    break;
                case EventKind.ExecutionStarted when message.FireAt > now:
                    deferred.Add(message);
                    break;
                default:
                    events.Add(message);
                    break;
            }
        }

        if (terminate is not null)
        {
            record.Status = OrchestrationStatus.Terminated;
            record.Output = terminate.Data;
            record.Inbox = [];
            record.Activities.Clear();
            record.Timers.Clear();
            record.LastUpdatedAt = now;
            NotifyParent(record, EventKind.SubOrchestrationFailed, null,
                new OrchestrationFailureDetails("Terminated", $"Instance '{record.InstanceId}' was terminated: {terminate.Data}"), now);
            return true;
        }

        var notStartedYet = deferred.Exists(m => m.Kind == EventKind.ExecutionStarted);
        if (suspended || notStartedYet)
        {
            // Suspended, or scheduled to start later: keep everything, in order, for later.
            deferred = [.. record.Inbox.Where(m => (m.ExecutionId is null || m.ExecutionId == record.ExecutionId)
                && m.Kind is not (EventKind.ExecutionSuspended or EventKind.ExecutionResumed or EventKind.ExecutionTerminated))];
            events.Clear();
        }
        else
        {
            foreach (var timer in record.Timers.Where(t => t.FireAt <= now).OrderBy(t => t.FireAt).ThenBy(t => t.TimerId).ToList())
            {
                record.Timers.Remove(timer);
                events.Add(new HistoryEvent { Kind = EventKind.TimerFired, TaskId = timer.TimerId, FireAt = timer.FireAt, Timestamp = now });
            }
        }

        inboxChanged |= record.Inbox.Count != deferred.Count;
        record.Inbox = deferred;
        if (suspended != wasSuspended)
        {
            record.Status = suspended ? OrchestrationStatus.Suspended : record.History.Count == 0 ? OrchestrationStatus.Pending : OrchestrationStatus.Running;
            record.LastUpdatedAt = now;
        }

        if (events.Count == 0)
        {
            return inboxChanged || suspended != wasSuspended;
        }

        RunEpisode(record, events, now);
        return true;
    }

    private void RunEpisode(InstanceRecord record, List<HistoryEvent> events, DateTime now)
    {
        record.LastUpdatedAt = now;
        if (!_orchestrations.TryGetValue(record.Name, out var registration))
        {
            Fail(record, new OrchestrationFailureDetails("OrchestrationNotFound", $"No orchestration named '{record.Name}' is registered with this engine."), now);
            return;
        }

        EpisodeResult result;
        try
        {
            result = new OrchestrationRunner(record, registration, _services, _loggerFactory).Run(events, now);
        }
        catch (Exception ex)
        {
            Fail(record, OrchestrationFailureDetails.FromException(ex), now);
            return;
        }

        record.History.AddRange(result.NewHistory);
        record.CustomStatus = result.CustomStatus;
        foreach (var action in result.NewActions)
        {
            switch (action.Kind)
            {
                case EventKind.TaskScheduled:
                    // Claimed in the same commit by this engine: no separate claim write, no claim races.
                    record.Activities.Add(new PendingActivity
                    {
                        TaskId = action.EventId, Name = action.Name!, Input = action.Data, ExecutionId = record.ExecutionId,
                        LeasedBy = EngineId, LeaseUntil = now + _options.ActivityLeaseDuration, Claims = 1, IsNew = true,
                    });
                    break;
                case EventKind.TimerCreated when !result.CancelledTimers.Contains(action.EventId):
                    record.Timers.Add(new PendingTimer { TimerId = action.EventId, FireAt = action.FireAt!.Value });
                    break;
                case EventKind.SubOrchestrationCreated:
                    record.Outbox.Add(new OutboxMessage
                    {
                        TargetInstanceId = action.InstanceId!,
                        Event = new HistoryEvent
                        {
                            Kind = EventKind.ExecutionStarted, Name = action.Name, Data = action.Data, InstanceId = record.InstanceId,
                            TaskId = action.EventId, ExecutionId = record.ExecutionId, Timestamp = now,
                        },
                    });
                    break;
                case EventKind.EventSent:
                    record.Outbox.Add(new OutboxMessage
                    {
                        TargetInstanceId = action.InstanceId!,
                        Event = new HistoryEvent { Kind = EventKind.EventRaised, Name = action.Name, Data = action.Data, Timestamp = now },
                    });
                    break;
            }
        }

        record.Timers.RemoveAll(t => result.CancelledTimers.Contains(t.TimerId));
        switch (result.Outcome)
        {
            case EpisodeOutcome.Running:
                record.Status = OrchestrationStatus.Running;
                break;
            case EpisodeOutcome.Completed:
                record.Status = OrchestrationStatus.Completed;
                record.Output = result.Output;
                record.Activities.Clear();
                record.Timers.Clear();
                NotifyParent(record, EventKind.SubOrchestrationCompleted, result.Output, null, now);
                break;
            case EpisodeOutcome.Failed:
                Fail(record, result.Failure!, now);
                break;
            case EpisodeOutcome.ContinuedAsNew:
                record.ExecutionId = NewExecutionId();
                record.History = [];
                record.Input = result.ContinueAsNewInput;
                record.Output = null;
                record.Activities.Clear();
                record.Timers.Clear();
                record.Status = OrchestrationStatus.Running;
                var inbox = new List<HistoryEvent> { new() { Kind = EventKind.ExecutionStarted, Name = record.Name, Data = result.ContinueAsNewInput, Timestamp = now } };
                inbox.AddRange(result.CarriedEvents);
                inbox.AddRange(record.Inbox);
                record.Inbox = inbox;
                break;
        }
    }

    private static void Fail(InstanceRecord record, OrchestrationFailureDetails failure, DateTime now)
    {
        record.Status = OrchestrationStatus.Failed;
        record.Failure = failure;
        record.Activities.Clear();
        record.Timers.Clear();
        record.LastUpdatedAt = now;
        NotifyParent(record, EventKind.SubOrchestrationFailed, null, failure, now);
    }

    private static void NotifyParent(InstanceRecord record, EventKind kind, string? output, OrchestrationFailureDetails? failure, DateTime now)
    {
        if (record.ParentInstanceId is null)
        {
            return;
        }

        record.Outbox.Add(new OutboxMessage
        {
            TargetInstanceId = record.ParentInstanceId,
            Event = new HistoryEvent
            {
                Kind = kind, TaskId = record.ParentTaskId, Data = output, Failure = failure, ExecutionId = record.ParentExecutionId, Timestamp = now,
            },
        });
    }

    internal static string NewExecutionId() => Guid.NewGuid().ToString("N");

    /// <summary>After a commit (or a read with nothing to do): arm timers, queue activities, deliver the outbox.</summary>
    private async Task AfterCommitAsync(InstanceRecord record, CancellationToken token)
    {
        var instanceId = record.InstanceId;
        if (!record.Status.IsTerminal() && record.NextWakeUp is { } wakeUp)
        {
            _armedWakeUps[instanceId] = wakeUp;
        }
        else
        {
            _armedWakeUps.TryRemove(instanceId, out _);
        }

        if (!record.Status.IsTerminal())
        {
            foreach (var timer in record.Timers)
            {
                _timers.Schedule($"timer|{instanceId}|{record.ExecutionId}|{timer.TimerId.ToString(CultureInfo.InvariantCulture)}", timer.FireAt, () => Signal(instanceId));
            }

            foreach (var message in record.Inbox)
            {
                if (message.Kind == EventKind.ExecutionStarted && message.FireAt is { } startAt)
                {
                    _timers.Schedule($"start|{instanceId}|{startAt.Ticks.ToString(CultureInfo.InvariantCulture)}", startAt, () => Signal(instanceId));
                }
            }

            var now = Now;
            foreach (var activity in record.Activities)
            {
                var item = new ActivityWorkItem(instanceId, activity.ExecutionId, activity.TaskId);
                if (activity.IsNew)
                {
                    EnqueueActivity(item with { Preclaimed = activity });
                }
                else if (activity.LeasedBy is null || activity.LeaseUntil <= now || activity.LeasedBy == EngineId)
                {
                    EnqueueActivity(item);
                }
                else if (activity.LeasedBy != EngineId)
                {
                    _timers.Schedule($"lease|{item.Key}|{activity.LeaseUntil!.Value.Ticks.ToString(CultureInfo.InvariantCulture)}", activity.LeaseUntil.Value, () => EnqueueActivity(item));
                }
            }
        }

        if (record.Outbox.Count > 0)
        {
            await DeliverOutboxAsync(record, token);
        }
    }

    private async Task DeliverOutboxAsync(InstanceRecord record, CancellationToken token)
    {
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var message in record.Outbox)
        {
            await DeliverAsync(message, token);
            delivered.Add(message.Id);
        }

        await UpdateAsync(record.InstanceId, r => r.Outbox.RemoveAll(m => delivered.Contains(m.Id)) > 0, token);
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken token)
    {
        var e = message.Event;
        if (e.Kind != EventKind.ExecutionStarted)
        {
            await AppendToInboxAsync(message.TargetInstanceId, e, token);
            return;
        }

        // A sub-orchestration: create the child (idempotent for the same parent task).
        var now = Now;
        var child = NewRecord(message.TargetInstanceId, e.Name!, e.Data, null, now, e.InstanceId, e.TaskId, e.ExecutionId);
        if (await _store.TryCreateAsync(child.ToIndex(), Serialize(child), token) is not null)
        {
            Signal(child.InstanceId);
            return;
        }

        var existing = await ReadAsync(message.TargetInstanceId, token);
        if (existing is { Record: var r } && (r.ParentInstanceId != e.InstanceId || r.ParentTaskId != e.TaskId || r.ParentExecutionId != e.ExecutionId))
        {
            await AppendToInboxAsync(e.InstanceId!, new HistoryEvent
            {
                Kind = EventKind.SubOrchestrationFailed, TaskId = e.TaskId, ExecutionId = e.ExecutionId, Timestamp = now,
                Failure = new OrchestrationFailureDetails("InstanceAlreadyExists", $"An orchestration instance with id '{message.TargetInstanceId}' already exists."),
            }, token);
        }
        else
        {
            Signal(message.TargetInstanceId);
        }
    }

    internal static InstanceRecord NewRecord(
        string instanceId, string name, string? input, DateTime? startAt, DateTime now,
        string? parentInstanceId = null, int parentTaskId = -1, string? parentExecutionId = null) =>
        new()
        {
            InstanceId = instanceId,
            Name = name,
            ExecutionId = NewExecutionId(),
            Status = OrchestrationStatus.Pending,
            CreatedAt = now,
            LastUpdatedAt = now,
            Input = input,
            ParentInstanceId = parentInstanceId,
            ParentTaskId = parentTaskId,
            ParentExecutionId = parentExecutionId,
            Inbox = [new HistoryEvent { Kind = EventKind.ExecutionStarted, Name = name, Data = input, FireAt = startAt, Timestamp = now }],
        };

    // ---------------------------------------------------------------- activities

    private void EnqueueActivity(ActivityWorkItem item)
    {
        if (!IsDisposed && _localActivities.TryAdd(item.Key, 0))
        {
            _activityQueue.Writer.TryWrite(item);
        }
    }

    private async Task ActivityLoopAsync(CancellationToken token)
    {
        try
        {
            await foreach (var item in _activityQueue.Reader.ReadAllAsync(token))
            {
                var buffered = false;
                try
                {
                    buffered = await RunActivityAsync(item, token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    EngineLog.ProcessingError(_logger, item.InstanceId, ex);
                    _timers.Schedule($"retry|{item.Key}", Now.AddSeconds(1), () => EnqueueActivity(item with { Preclaimed = null }));
                }
                finally
                {
                    // A buffered result keeps its key until the episode that consumes it is committed (no second local run).
                    if (!buffered)
                    {
                        _localActivities.TryRemove(item.Key, out _);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Claims (unless claimed by the commit that scheduled it), runs, and buffers the result. Returns whether a result was buffered.</summary>
    private async Task<bool> RunActivityAsync(ActivityWorkItem item, CancellationToken token)
    {
        var claimed = item.Preclaimed;
        if (claimed is null || claimed.LeaseUntil < Now + (_options.ActivityLeaseDuration / 3))
        {
            DateTime? leasedElsewhereUntil = null;
            claimed = await ClaimAsync(item, until => leasedElsewhereUntil = until, token);
            if (claimed is null)
            {
                if (leasedElsewhereUntil is { } until)
                {
                    _timers.Schedule($"lease|{item.Key}|{until.Ticks.ToString(CultureInfo.InvariantCulture)}", until, () => EnqueueActivity(item));
                }

                return false;
            }
        }

        EngineLog.ActivityClaimed(_logger, claimed.Name, item.TaskId, item.InstanceId, claimed.Claims);
        string? output = null;
        OrchestrationFailureDetails? failure = null;
        using var running = CancellationTokenSource.CreateLinkedTokenSource(token);
        var renewal = RenewLeaseAsync(item, running.Token);
        try
        {
            if (!_activities.TryGetValue(claimed.Name, out var registration))
            {
                throw new InvalidOperationException($"No activity named '{claimed.Name}' is registered with this engine.");
            }

            var input = claimed.Input;
            output = await Task.Run(() => registration.Invoke(_services, input, token), token).WaitAsync(token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex)
        {
            EngineLog.ActivityFailed(_logger, claimed.Name, item.TaskId, item.InstanceId, ex);
            failure = OrchestrationFailureDetails.FromException(ex);
        }
        finally
        {
            await running.CancelAsync();
            await renewal;
        }

        token.ThrowIfCancellationRequested();
        var completion = new HistoryEvent
        {
            Kind = failure is null ? EventKind.TaskCompleted : EventKind.TaskFailed,
            TaskId = item.TaskId, Name = claimed.Name, Data = output, Failure = failure, ExecutionId = item.ExecutionId, Timestamp = Now,
        };

        // Not written now: the next episode of the instance commits it together with its own changes (one write instead
        // of two, and no write races between the results of a fan-out). A crash before that commit loses the result; the
        // lease then expires and the activity runs again (at least once, as in Durable).
        var buffer = _completions.GetOrAdd(item.InstanceId, _ => []);
        lock (buffer)
        {
            buffer.Add(new BufferedCompletion(item, completion));
        }

        Signal(item.InstanceId);
        return true;
    }

    /// <summary>Takes the activity's lease if it is free, expired or already this engine's; null if it is gone or another engine holds it.</summary>
    private async Task<PendingActivity?> ClaimAsync(ActivityWorkItem item, Action<DateTime> leasedElsewhere, CancellationToken token)
    {
        PendingActivity? claimed = null;
        DateTime? leasedElsewhereUntil = null;
        await UpdateAsync(item.InstanceId, record =>
        {
            // Runs again after a conflict: decide from this read only.
            claimed = null;
            leasedElsewhereUntil = null;
            var activity = record.Status.IsTerminal() ? null : record.Activities.Find(item.Matches);
            if (activity is null)
            {
                return false;
            }

            var now = Now;
            if (activity.LeasedBy is not null && activity.LeasedBy != EngineId && activity.LeaseUntil > now)
            {
                leasedElsewhereUntil = activity.LeaseUntil;
                return false;
            }

            if (activity.LeasedBy != EngineId || activity.LeaseUntil <= now)
            {
                activity.Claims++;
            }

            activity.LeasedBy = EngineId;
            activity.LeaseUntil = now + _options.ActivityLeaseDuration;
            claimed = activity;
            return true;
        }, token);

        if (leasedElsewhereUntil is { } until)
        {
            leasedElsewhere(until);
        }

        return claimed;
    }

    private List<BufferedCompletion> SnapshotCompletions(string instanceId)
    {
        if (!_completions.TryGetValue(instanceId, out var buffer))
        {
            return [];
        }

        lock (buffer)
        {
            return [.. buffer];
        }
    }

    /// <summary>Moves buffered results into the record: the activity leaves the pending list, its result joins the inbox.</summary>
    private static bool ApplyCompletions(InstanceRecord record, List<BufferedCompletion> completions)
    {
        var changed = false;
        foreach (var (item, completion) in completions)
        {
            var index = record.Activities.FindIndex(item.Matches);
            if (index < 0)
            {
                continue; // Terminated, continued as new, or completed by another engine after a lease takeover.
            }

            record.Activities.RemoveAt(index);
            if (!record.Status.IsTerminal())
            {
                record.Inbox.Add(completion);
            }

            changed = true;
        }

        return changed;
    }

    /// <summary>Forgets buffered results once committed (or found obsolete) and frees their activity keys.</summary>
    private void ReleaseCompletions(string instanceId, List<BufferedCompletion> completions)
    {
        if (completions.Count == 0 || !_completions.TryGetValue(instanceId, out var buffer))
        {
            return;
        }

        lock (buffer)
        {
            foreach (var c in completions)
            {
                buffer.Remove(c);
            }

            if (buffer.Count == 0)
            {
                _completions.TryRemove(new KeyValuePair<string, List<BufferedCompletion>>(instanceId, buffer));
            }
        }

        foreach (var c in completions)
        {
            _localActivities.TryRemove(c.Item.Key, out _);
        }
    }

    /// <summary>Keeps the lease of a running activity alive so that no other engine takes it over.</summary>
    private async Task RenewLeaseAsync(ActivityWorkItem item, CancellationToken token)
    {
        var period = _options.ActivityLeaseDuration / 3;
        try
        {
            while (true)
            {
                await Task.Delay(period, _time, token);
                await UpdateAsync(item.InstanceId, record =>
                {
                    var activity = record.Activities.Find(item.Matches);
                    if (activity is null || activity.LeasedBy != EngineId)
                    {
                        return false;
                    }

                    activity.LeaseUntil = Now + _options.ActivityLeaseDuration;
                    return true;
                }, token);
            }
        }
        catch (OperationCanceledException)
        {
            // The activity finished or the engine stopped.
        }
    }

    // ---------------------------------------------------------------- scans

    /// <summary>
    /// Scans the hub every <see cref="DurableEngineOptions.InstancePollingInterval"/>, but never spends more than about
    /// 5% of the time listing: a scan lists every instance of the hub, and on a large hub (or on Azurite, which serves
    /// one request at a time) a listing every few seconds would delay the engine's own reads and writes.
    /// </summary>
    private async Task ScanLoopAsync(CancellationToken token)
    {
        var interval = _options.InstancePollingInterval;
        while (!token.IsCancellationRequested)
        {
            await Task.Delay(interval, _time, token);
            var started = _time.GetTimestamp();
            await ScanAsync(full: false, token);
            var took = _time.GetElapsedTime(started);
            interval = took * 20 > _options.InstancePollingInterval ? took * 20 : _options.InstancePollingInterval;
        }
    }

    /// <summary>
    /// Finds instances that need this engine: on start all unfinished ones (recovery); later those with pending work or
    /// a timer due before the next scan (work another engine left, e.g. because it died).
    /// </summary>
    private async Task<int> ScanAsync(bool full, CancellationToken token)
    {
        var count = 0;
        var horizon = Now + _options.InstancePollingInterval + _options.InstancePollingInterval;
        await foreach (var index in _store.ListAsync(null, null, token))
        {
            if (index.Status.IsTerminal() && !index.HasWork)
            {
                continue;
            }

            if (!full)
            {
                if (_instanceStates.ContainsKey(index.InstanceId))
                {
                    continue; // Already queued or running here.
                }

                if (!index.HasWork && (index.NextWakeUp is null || index.NextWakeUp > horizon
                    || (_armedWakeUps.TryGetValue(index.InstanceId, out var armed) && armed <= index.NextWakeUp)))
                {
                    continue; // Nothing to do soon, or its next timer is already in this engine's timer queue.
                }
            }

            count++;
            Signal(index.InstanceId);
        }

        return count;
    }

    private async Task GuardAsync(string name, Func<Task> loop)
    {
        try
        {
            await loop();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex)
        {
            EngineLog.LoopError(_logger, name, ex);
        }
    }

    internal async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId)
    {
        var read = await ReadAsync(instanceId, CancellationToken.None);
        return read?.Record.History ?? [];
    }

    internal async Task<InstanceRecord?> GetRecordAsync(string instanceId) => (await ReadAsync(instanceId, CancellationToken.None))?.Record;

    internal int PendingTimerCount => _timers.Count;

    /// <summary>For tests: waits until nothing is queued or running in this engine (timers may still be pending).</summary>
    internal async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        var quiet = 0;
        while (quiet < 3)
        {
            quiet = _instanceStates.IsEmpty && _localActivities.IsEmpty && _orchestrationQueue.Reader.Count == 0 ? quiet + 1 : 0;
            await Task.Delay(20, cancellationToken);
        }
    }

    private static JsonSerializerOptions CreateRecordJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private sealed record BufferedCompletion(ActivityWorkItem Item, HistoryEvent Completion);

    private sealed record ActivityWorkItem(string InstanceId, string ExecutionId, int TaskId, PendingActivity? Preclaimed = null)
    {
        public string Key => $"{InstanceId}|{ExecutionId}|{TaskId.ToString(CultureInfo.InvariantCulture)}";

        public bool Matches(PendingActivity activity) => activity.TaskId == TaskId && activity.ExecutionId == ExecutionId;
    }
}
