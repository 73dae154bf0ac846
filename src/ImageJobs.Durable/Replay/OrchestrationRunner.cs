using System.Globalization;
using ImageJobs.Durable.Model;
using ImageJobs.Workflow.Durable;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Durable.Replay;

/// <summary>How an episode ended.</summary>
internal enum EpisodeOutcome
{
    Running,
    Completed,
    Failed,
    ContinuedAsNew,
}

/// <summary>What one episode produced: events to append, new actions, and the outcome.</summary>
internal sealed class EpisodeResult
{
    public List<HistoryEvent> NewHistory { get; } = [];

    /// <summary>Scheduling events produced by this episode (also in <see cref="NewHistory"/>).</summary>
    public List<HistoryEvent> NewActions { get; } = [];

    public HashSet<int> CancelledTimers { get; } = [];

    public string? CustomStatus { get; set; }

    public EpisodeOutcome Outcome { get; set; }

    public string? Output { get; set; }

    public OrchestrationFailureDetails? Failure { get; set; }

    public string? ContinueAsNewInput { get; set; }

    public List<HistoryEvent> CarriedEvents { get; } = [];
}

/// <summary>
/// Runs one episode of an orchestration: replays the recorded history into fresh orchestrator code, then delivers the
/// new events. Scheduling calls get sequence numbers; on replay they must match the recorded scheduling events at the
/// same numbers (name and kind), else the instance fails as non-deterministic. Everything runs on one thread through
/// <see cref="OrchestrationSynchronizationContext"/>.
/// </summary>
internal sealed class OrchestrationRunner : IOrchestrationContext
{
    private readonly InstanceRecord _record;
    private readonly OrchestrationRegistration _registration;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly OrchestrationSynchronizationContext _sync = new();
    private readonly SortedDictionary<int, HistoryEvent> _actions = [];
    private readonly Dictionary<int, TaskCompletionSource<HistoryEvent>> _open = [];
    private readonly List<HistoryEvent> _bufferedEvents = [];
    private readonly List<HistoryEvent> _unprocessed = [];
    private readonly List<(string Name, TaskCompletionSource<string?> Source)> _eventWaiters = [];
    private readonly EpisodeResult _result = new();
    private Task<string?>? _orchestratorTask;
    private string? _input;
    private int _sequence;
    private int _guidCounter;
    private DateTime _now;
    private bool _isReplaying;
    private (string? Input, bool Preserve)? _continueAsNew;

    public OrchestrationRunner(InstanceRecord record, OrchestrationRegistration registration, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        _record = record;
        _registration = registration;
        _services = services;
        _loggerFactory = loggerFactory;
        _input = record.Input;
    }

    public string InstanceId => _record.InstanceId;

    public string Name => _record.Name;

    public DateTime CurrentUtcDateTime => _now;

    public bool IsReplaying => _isReplaying;

    public EpisodeResult Run(IReadOnlyList<HistoryEvent> newEvents, DateTime now)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_sync);
        try
        {
            _isReplaying = true;
            foreach (var e in _record.History)
            {
                Apply(e, replaying: true);
            }

            _isReplaying = false;
            var started = new HistoryEvent { Kind = EventKind.OrchestratorStarted, Timestamp = now };
            _result.NewHistory.Add(started);
            Apply(started, replaying: false);
            foreach (var e in newEvents)
            {
                if (_orchestratorTask is { IsCompleted: true })
                {
                    // Finished mid-batch: the rest is not delivered (ContinueAsNew may carry the events over).
                    _unprocessed.Add(e);
                    continue;
                }

                if (Apply(e, replaying: false))
                {
                    _result.NewHistory.Add(e);
                }
            }

            foreach (var action in _actions.Values)
            {
                _result.NewHistory.Add(action);
                _result.NewActions.Add(action);
            }

            _actions.Clear();
            Finish();
        }
        catch (NonDeterministicOrchestrationException ex)
        {
            _result.Outcome = EpisodeOutcome.Failed;
            _result.Failure = OrchestrationFailureDetails.FromException(ex);
            _result.NewActions.Clear();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        _result.CustomStatus = _customStatus;
        return _result;
    }

    private string? _customStatus;

    private void Finish()
    {
        if (_orchestratorTask is null)
        {
            _result.Outcome = EpisodeOutcome.Running;
            return;
        }

        if (!_orchestratorTask.IsCompleted)
        {
            if (_open.Count == 0 && _eventWaiters.Count == 0)
            {
                // Nothing durable can ever resume it: it awaits something else (Task.Delay, I/O, CancelAsync…). Fail loudly.
                _result.Outcome = EpisodeOutcome.Failed;
                _result.Failure = OrchestrationFailureDetails.FromException(new InvalidOperationException(
                    $"Orchestration '{Name}' (instance '{InstanceId}') is waiting on a task that is not a durable task (activity, timer, " +
                    "external event or sub-orchestration); orchestrator code must not await Task.Delay, I/O, CancelAsync or other tasks."));
                return;
            }

            _result.Outcome = EpisodeOutcome.Running;
            return;
        }

        if (_orchestratorTask.IsCompletedSuccessfully)
        {
            if (_continueAsNew is { } can)
            {
                _result.Outcome = EpisodeOutcome.ContinuedAsNew;
                _result.ContinueAsNewInput = can.Input;
                if (can.Preserve)
                {
                    _result.CarriedEvents.AddRange(_bufferedEvents);
                    _result.CarriedEvents.AddRange(_unprocessed.Where(e => e.Kind == EventKind.EventRaised));
                }
            }
            else
            {
                _result.Outcome = EpisodeOutcome.Completed;
                _result.Output = _orchestratorTask.Result;
            }

            return;
        }

        _result.Outcome = EpisodeOutcome.Failed;
        var exception = _orchestratorTask.Exception?.InnerException ?? new TaskCanceledException("The orchestrator function was canceled.");
        _result.Failure = OrchestrationFailureDetails.FromException(exception);
    }

    /// <summary>Applies one event; returns false when a new event is dropped (duplicate or for a canceled task).</summary>
    private bool Apply(HistoryEvent e, bool replaying)
    {
        switch (e.Kind)
        {
            case EventKind.OrchestratorStarted:
                _now = e.Timestamp;
                return true;

            case EventKind.ExecutionStarted:
                if (_orchestratorTask is not null)
                {
                    return false;
                }

                _input = e.Data ?? _input;
                try
                {
                    _orchestratorTask = _registration.Invoke(_services, this, _input);
                }
                catch (Exception ex) when (ex is not NonDeterministicOrchestrationException)
                {
                    _orchestratorTask = Task.FromException<string?>(ex);
                }

                _sync.RunPending();
                return true;

            case EventKind.TaskScheduled or EventKind.TimerCreated or EventKind.SubOrchestrationCreated or EventKind.EventSent:
                if (replaying)
                {
                    Match(e);
                }

                return replaying;

            case EventKind.TaskCompleted or EventKind.TaskFailed or EventKind.TimerFired
                or EventKind.SubOrchestrationCompleted or EventKind.SubOrchestrationFailed:
                if (!_open.Remove(e.TaskId, out var source))
                {
                    return false;
                }

                source.TrySetResult(e);
                _sync.RunPending();
                return true;

            case EventKind.EventRaised:
                var index = _eventWaiters.FindIndex(w => string.Equals(w.Name, e.Name, StringComparison.OrdinalIgnoreCase));
                if (index >= 0)
                {
                    var waiter = _eventWaiters[index];
                    _eventWaiters.RemoveAt(index);
                    waiter.Source.TrySetResult(e.Data);
                }
                else
                {
                    _bufferedEvents.Add(e);
                }

                _sync.RunPending();
                return true;

            default:
                return true;
        }
    }

    private void Match(HistoryEvent recorded)
    {
        if (!_actions.Remove(recorded.EventId, out var produced))
        {
            throw new NonDeterministicOrchestrationException(
                $"Non-deterministic orchestration '{Name}' (instance '{InstanceId}'): the history has {Describe(recorded)} at sequence " +
                $"{recorded.EventId.ToString(CultureInfo.InvariantCulture)}, but the orchestrator code did not schedule anything there.");
        }

        if (produced.Kind != recorded.Kind || !string.Equals(produced.Name, recorded.Name, StringComparison.Ordinal))
        {
            throw new NonDeterministicOrchestrationException(
                $"Non-deterministic orchestration '{Name}' (instance '{InstanceId}'): the history has {Describe(recorded)} at sequence " +
                $"{recorded.EventId.ToString(CultureInfo.InvariantCulture)}, but the orchestrator code now schedules {Describe(produced)}.");
        }
    }

    private static string Describe(HistoryEvent e) => e.Kind switch
    {
        EventKind.TaskScheduled => $"activity '{e.Name}'",
        EventKind.TimerCreated => "a timer",
        EventKind.SubOrchestrationCreated => $"sub-orchestration '{e.Name}'",
        EventKind.EventSent => $"event '{e.Name}' sent to '{e.InstanceId}'",
        _ => e.Kind.ToString(),
    };

    private Task<HistoryEvent> Schedule(HistoryEvent action)
    {
        _actions[action.EventId] = action;
        var source = new TaskCompletionSource<HistoryEvent>();
        _open[action.EventId] = source;
        return source.Task;
    }

    public T? GetInput<T>() => DurableJson.Deserialize<T>(_input);

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, ActivityRetryPolicy? retry = null)
    {
        var json = await CallActivityWithRetryAsync(name, DurableJson.Serialize(input), retry);
        return DurableJson.Deserialize<TResult>(json)!;
    }

    public Task CallActivityAsync(string name, object? input = null, ActivityRetryPolicy? retry = null) =>
        CallActivityWithRetryAsync(name, DurableJson.Serialize(input), retry);

    private async Task<string?> CallActivityWithRetryAsync(string name, string? input, ActivityRetryPolicy? retry)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var firstAttemptAt = _now;
        for (var attempt = 1; ; attempt++)
        {
            var id = _sequence++;
            var completion = await Schedule(new HistoryEvent { Kind = EventKind.TaskScheduled, EventId = id, Name = name, Data = input, Timestamp = _now });
            if (completion.Kind == EventKind.TaskCompleted)
            {
                return completion.Data;
            }

            var failure = completion.Failure ?? new OrchestrationFailureDetails("Unknown", "The activity failed.");
            if (retry is null
                || attempt >= retry.MaxNumberOfAttempts
                || (retry.HandleFailure is { } handle && !handle(failure)))
            {
                throw new OrchestrationTaskFailedException(name, id, failure);
            }

            var delay = retry.GetRetryDelay(attempt);
            if (retry.RetryTimeout != Timeout.InfiniteTimeSpan && _now + delay > firstAttemptAt + retry.RetryTimeout)
            {
                throw new OrchestrationTaskFailedException(name, id, failure);
            }

            await CreateTimer(_now + delay, CancellationToken.None);
        }
    }

    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var id = _sequence++;
        var fireAtUtc = fireAt.Kind == DateTimeKind.Local ? fireAt.ToUniversalTime() : DateTime.SpecifyKind(fireAt, DateTimeKind.Utc);
        var task = Schedule(new HistoryEvent { Kind = EventKind.TimerCreated, EventId = id, FireAt = fireAtUtc, Timestamp = _now });
        if (cancellationToken.CanBeCanceled)
        {
            var source = _open[id];
            cancellationToken.Register(() =>
            {
                if (_open.Remove(id))
                {
                    _result.CancelledTimers.Add(id);
                    source.TrySetCanceled(cancellationToken);
                }
            });
        }

        return task;
    }

    public Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        var buffered = _bufferedEvents.FindIndex(e => string.Equals(e.Name, eventName, StringComparison.OrdinalIgnoreCase));
        if (buffered >= 0)
        {
            var e = _bufferedEvents[buffered];
            _bufferedEvents.RemoveAt(buffered);
            return Task.FromResult(DurableJson.Deserialize<T>(e.Data)!);
        }

        var source = new TaskCompletionSource<string?>();
        var entry = (eventName, source);
        _eventWaiters.Add(entry);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (_eventWaiters.Remove(entry))
                {
                    source.TrySetCanceled(cancellationToken);
                }
            });
        }

        return Convert(source.Task);

        static async Task<T> Convert(Task<string?> json) => DurableJson.Deserialize<T>(await json)!;
    }

    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, string? instanceId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(orchestratorName);
        var id = _sequence++;
        var childId = instanceId ?? $"{InstanceId}:{id.ToString(CultureInfo.InvariantCulture)}";
        var completion = await Schedule(new HistoryEvent
        {
            Kind = EventKind.SubOrchestrationCreated, EventId = id, Name = orchestratorName, InstanceId = childId,
            Data = DurableJson.Serialize(input), Timestamp = _now,
        });
        if (completion.Kind == EventKind.SubOrchestrationFailed)
        {
            throw new OrchestrationTaskFailedException(orchestratorName, id,
                completion.Failure ?? new OrchestrationFailureDetails("Unknown", "The sub-orchestration failed."));
        }

        return DurableJson.Deserialize<TResult>(completion.Data)!;
    }

    public void SendEvent(string instanceId, string eventName, object? payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        var id = _sequence++;
        _actions[id] = new HistoryEvent
        {
            Kind = EventKind.EventSent, EventId = id, Name = eventName, InstanceId = instanceId, Data = DurableJson.Serialize(payload), Timestamp = _now,
        };
    }

    public void SetCustomStatus(object? customStatus) => _customStatus = DurableJson.Serialize(customStatus);

    public Guid NewGuid()
    {
        var name = string.Concat(InstanceId, "_", _now.ToString("o", CultureInfo.InvariantCulture), "_", _guidCounter.ToString(CultureInfo.InvariantCulture));
        _guidCounter++;
        return DeterministicGuid.Create(DeterministicGuid.DurableNamespace, name);
    }

    public void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        _continueAsNew = (DurableJson.Serialize(newInput), preserveUnprocessedEvents);

    public ILogger CreateReplaySafeLogger(string categoryName) =>
        new ReplaySafeLogger(_loggerFactory.CreateLogger(categoryName), () => _isReplaying);
}
