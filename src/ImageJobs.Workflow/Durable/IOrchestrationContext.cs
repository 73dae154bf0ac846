using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow.Durable;

/// <summary>
/// The orchestrator's view of a running orchestration. Members mirror <c>Microsoft.DurableTask.TaskOrchestrationContext</c>
/// by name and meaning, so the Azure Functions adapter is one-line delegation and the embedded engine replays the same code.
/// </summary>
/// <remarks>
/// Orchestrator code is replayed from history: it must be deterministic. Use <see cref="CurrentUtcDateTime"/>,
/// <see cref="NewGuid"/>, <see cref="CreateTimer(DateTime, CancellationToken)"/> and activities instead of the system
/// clock, random GUIDs, delays or I/O, and never leave the orchestration's context with <c>ConfigureAwait</c>.
/// To cancel the loser of a <c>Task.WhenAny</c> race, call <see cref="CancellationTokenSource.Cancel()"/>, not
/// <c>CancelAsync</c> (which runs the callbacks on the thread pool, outside the orchestration's single thread).
/// </remarks>
public interface IOrchestrationContext
{
    /// <summary>The id of this orchestration instance.</summary>
    string InstanceId { get; }

    /// <summary>The orchestration's registered name.</summary>
    string Name { get; }

    /// <summary>The deterministic current time: the time the current episode started, replayed from history.</summary>
    DateTime CurrentUtcDateTime { get; }

    /// <summary><see langword="true"/> while the code is re-running from history rather than making progress.</summary>
    bool IsReplaying { get; }

    /// <summary>Deserializes the orchestration input.</summary>
    /// <typeparam name="T">The input type.</typeparam>
    T? GetInput<T>();

    /// <summary>Schedules an activity and returns its result.</summary>
    /// <typeparam name="TResult">The activity's result type.</typeparam>
    /// <param name="name">The activity name.</param>
    /// <param name="input">The activity input (serialized with <see cref="DurableJson.Options"/>).</param>
    /// <param name="retry">An optional retry policy; retry waits are durable timers.</param>
    /// <exception cref="OrchestrationTaskFailedException">The activity failed (after all retries).</exception>
    Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, ActivityRetryPolicy? retry = null);

    /// <summary>Schedules an activity that returns no result.</summary>
    /// <param name="name">The activity name.</param>
    /// <param name="input">The activity input.</param>
    /// <param name="retry">An optional retry policy.</param>
    /// <exception cref="OrchestrationTaskFailedException">The activity failed (after all retries).</exception>
    Task CallActivityAsync(string name, object? input = null, ActivityRetryPolicy? retry = null);

    /// <summary>Creates a durable timer that fires at <paramref name="fireAt"/> (UTC), at once if it is in the past.</summary>
    /// <param name="fireAt">When the timer fires.</param>
    /// <param name="cancellationToken">Cancels the timer: the task then ends as canceled and the timer is dropped.</param>
    Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>Creates a durable timer that fires after <paramref name="delay"/>, measured from <see cref="CurrentUtcDateTime"/>.</summary>
    /// <param name="delay">The delay.</param>
    /// <param name="cancellationToken">Cancels the timer.</param>
    Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>
    /// Waits for an external event raised with <see cref="IOrchestrationClient.RaiseEventAsync"/> or <see cref="SendEvent"/>.
    /// Names are case-insensitive; events raised before the wait are buffered and delivered in order.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="eventName">The event name.</param>
    /// <param name="cancellationToken">Cancels the wait (the task ends as canceled; a later event stays buffered).</param>
    Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>Runs another orchestration as a child and returns its output.</summary>
    /// <typeparam name="TResult">The child's output type.</typeparam>
    /// <param name="orchestratorName">The child orchestration name.</param>
    /// <param name="input">The child input.</param>
    /// <param name="instanceId">The child's instance id; a deterministic id derived from this instance when omitted.</param>
    /// <exception cref="OrchestrationTaskFailedException">The child failed or was terminated.</exception>
    Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, string? instanceId = null);

    /// <summary>Sends an event to another orchestration instance (fire and forget, at least once).</summary>
    /// <param name="instanceId">The target instance.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="payload">The event payload.</param>
    void SendEvent(string instanceId, string eventName, object? payload);

    /// <summary>Sets a JSON-serializable status visible to clients (<see cref="OrchestrationInstance.SerializedCustomStatus"/>).</summary>
    /// <param name="customStatus">The status, or <see langword="null"/> to clear it.</param>
    void SetCustomStatus(object? customStatus);

    /// <summary>Returns a deterministic, name-based (version 5) UUID, the same on every replay.</summary>
    Guid NewGuid();

    /// <summary>
    /// Restarts this instance with a fresh history and <paramref name="newInput"/> once the orchestrator function returns.
    /// </summary>
    /// <param name="newInput">The input of the new execution.</param>
    /// <param name="preserveUnprocessedEvents">Carry over external events that were received but not yet awaited.</param>
    void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>Creates a logger that writes only when the code is not replaying.</summary>
    /// <param name="categoryName">The logger category.</param>
    ILogger CreateReplaySafeLogger(string categoryName);

    /// <summary>Creates a replay-safe logger with the category of <paramref name="type"/>.</summary>
    /// <param name="type">The category type.</param>
    ILogger CreateReplaySafeLogger(Type type) => CreateReplaySafeLogger((type ?? throw new ArgumentNullException(nameof(type))).FullName ?? type.Name);

    /// <summary>Creates a replay-safe logger with the category of <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The category type.</typeparam>
    ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T));
}
