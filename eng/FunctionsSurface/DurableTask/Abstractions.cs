// Mirrors Microsoft.DurableTask.Abstractions, the version Microsoft.Azure.Functions.Worker.Extensions.DurableTask
// 1.16.5 brings in (through Microsoft.DurableTask.Worker.Grpc / Client.Grpc).
// Source: microsoft/durabletask-dotnet, src/Abstractions/TaskOrchestrationContext.cs (commit 1976de6),
// TaskName.cs, TaskOptions.cs (TaskOptions, SubOrchestrationOptions, StartOrchestrationOptions), TaskRetryOptions.cs,
// RetryPolicy.cs, TaskFailedException.cs, TaskFailureDetails.cs, ParentOrchestrationInstance.cs, AsyncPageable.cs,
// Page.cs. Not mirrored on purpose: WaitForExternalEvent(string, TimeSpan, CancellationToken) (Abstractions >= 1.19
// only), entities, versioning, retry handlers. Declarations only: no behaviour.
using Microsoft.Extensions.Logging;

namespace Microsoft.DurableTask;

public abstract class TaskOrchestrationContext
{
    public abstract TaskName Name { get; }

    public abstract string InstanceId { get; }

    public abstract string InstanceVersion { get; }

    public abstract ParentOrchestrationInstance? Parent { get; }

    public abstract DateTime CurrentUtcDateTime { get; }

    public abstract bool IsReplaying { get; }

    protected abstract ILoggerFactory LoggerFactory { get; }

    public abstract T? GetInput<T>();

    public virtual Task CallActivityAsync(TaskName name, object? input = null, TaskOptions? options = null)
        => throw null!;

    public virtual Task CallActivityAsync(TaskName name, TaskOptions options) => throw null!;

    public virtual Task<TResult> CallActivityAsync<TResult>(TaskName name, TaskOptions options) => throw null!;

    public abstract Task<TResult> CallActivityAsync<TResult>(
        TaskName name, object? input = null, TaskOptions? options = null);

    public virtual Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => throw null!;

    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    // Throws TaskCanceledException when the timeout timer wins.
    public Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout) => throw null!;

    public abstract void SendEvent(string instanceId, string eventName, object payload);

    public abstract void SetCustomStatus(object? customStatus);

    public abstract Task<TResult> CallSubOrchestratorAsync<TResult>(
        TaskName orchestratorName, object? input = null, TaskOptions? options = null);

    public virtual Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, TaskOptions options)
        => throw null!;

    public virtual Task CallSubOrchestratorAsync(TaskName orchestratorName, TaskOptions options) => throw null!;

    public virtual Task CallSubOrchestratorAsync(
        TaskName orchestratorName, object? input = null, TaskOptions? options = null)
        => throw null!;

    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    public abstract Guid NewGuid();

    public ILogger CreateReplaySafeLogger(string categoryName) => throw null!;

    public virtual ILogger CreateReplaySafeLogger(Type type) => throw null!;

    public virtual ILogger CreateReplaySafeLogger<T>() => throw null!;
}

public record ParentOrchestrationInstance(TaskName Name, string InstanceId);

public readonly struct TaskName : IEquatable<TaskName>
{
    public TaskName(string name) => throw null!;

    public TaskName(string name, string version) => throw null!;

    public string Name => throw null!;

    public string Version => throw null!;

    public static implicit operator string(TaskName value) => throw null!;

    public static implicit operator TaskName(string value) => throw null!;

    public static bool operator ==(TaskName a, TaskName b) => throw null!;

    public static bool operator !=(TaskName a, TaskName b) => throw null!;

    public bool Equals(TaskName other) => throw null!;

    public override bool Equals(object? obj) => throw null!;

    public override int GetHashCode() => throw null!;

    public override string ToString() => throw null!;
}

public record TaskOptions
{
    public TaskOptions(TaskRetryOptions? retry) => throw null!;

    public TaskOptions(TaskRetryOptions? retry = null, IDictionary<string, string>? tags = null) => throw null!;

    public TaskRetryOptions? Retry { get; init; }

    public IDictionary<string, string>? Tags { get; init; }

    public static TaskOptions FromRetryPolicy(RetryPolicy policy) => throw null!;

    public SubOrchestrationOptions WithInstanceId(string instanceId) => throw null!;
}

public record SubOrchestrationOptions : TaskOptions
{
    public SubOrchestrationOptions(TaskRetryOptions? retry = null, string? instanceId = null)
        : base(retry) => throw null!;

    public SubOrchestrationOptions(TaskOptions options, string? instanceId = null)
        : base(options) => throw null!;

    public string? InstanceId { get; init; }
}

// Declared in Microsoft.DurableTask (Abstractions/TaskOptions.cs), not in Microsoft.DurableTask.Client.
public record StartOrchestrationOptions(string? InstanceId = null, DateTimeOffset? StartAt = null)
{
    public IReadOnlyDictionary<string, string> Tags { get; init; } = null!;
}

public sealed class TaskRetryOptions
{
    public TaskRetryOptions(RetryPolicy policy) => throw null!;

    public RetryPolicy? Policy => throw null!;

    public static implicit operator TaskRetryOptions(RetryPolicy policy) => throw null!;

    public static TaskRetryOptions FromRetryPolicy(RetryPolicy policy) => throw null!;
}

public class RetryPolicy
{
    public RetryPolicy(
        int maxNumberOfAttempts,
        TimeSpan firstRetryInterval,
        double backoffCoefficient = 1.0,
        TimeSpan? maxRetryInterval = null,
        TimeSpan? retryTimeout = null)
        => throw null!;

    public int MaxNumberOfAttempts => throw null!;

    public TimeSpan FirstRetryInterval => throw null!;

    public double BackoffCoefficient => throw null!;

    public TimeSpan MaxRetryInterval => throw null!;

    public TimeSpan RetryTimeout => throw null!;

    public Func<Exception, bool> Handle => throw null!;

    // The real name is HandleTaskFailureDetails (init-only), not "HandleFailure".
    public Func<TaskFailureDetails, bool> HandleTaskFailureDetails { init => throw null!; }
}

public sealed class TaskFailedException : Exception
{
    public TaskFailedException(string taskName, int taskId, Exception innerException) => throw null!;

    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails) => throw null!;

    public string TaskName => throw null!;

    public int TaskId => throw null!;

    public TaskFailureDetails FailureDetails => throw null!;
}

public record TaskFailureDetails(
    string ErrorType,
    string ErrorMessage,
    string? StackTrace,
    TaskFailureDetails? InnerFailure,
    IDictionary<string, object?>? Properties)
{
    public bool IsCausedBy<T>()
        where T : Exception
        => throw null!;

    public bool IsCausedBy(Type targetBaseExceptionType) => throw null!;

    public static TaskFailureDetails FromException(Exception exception) => throw null!;
}

// Durable's own pageable (adapted from Azure.Core's), not Azure.AsyncPageable<T>.
public abstract class AsyncPageable<T> : IAsyncEnumerable<T>
    where T : notnull
{
    public abstract IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = default, int? pageSizeHint = default);

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => throw null!;
}

public sealed class Page<T>
    where T : notnull
{
    public Page(IReadOnlyList<T> values, string? continuationToken = null) => throw null!;

    public IReadOnlyList<T> Values => throw null!;

    public string? ContinuationToken => throw null!;
}
