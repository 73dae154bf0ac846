using ImageJobs.Workflow.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Functions.Durable;

/// <summary>
/// The workflow's <see cref="IOrchestrationContext"/> over Durable's <see cref="TaskOrchestrationContext"/>: pure
/// delegation. Activity and sub-orchestration failures (<see cref="TaskFailedException"/>) surface as the port's
/// <see cref="OrchestrationTaskFailedException"/>; retry policies become <see cref="TaskOptions"/>.
/// </summary>
/// <param name="context">Durable's context of the running orchestrator function.</param>
public sealed class DurableOrchestrationContext(TaskOrchestrationContext context) : IOrchestrationContext
{
    /// <inheritdoc />
    public string InstanceId => context.InstanceId;

    /// <inheritdoc />
    public string Name => context.Name.Name;

    /// <inheritdoc />
    public DateTime CurrentUtcDateTime => context.CurrentUtcDateTime;

    /// <inheritdoc />
    public bool IsReplaying => context.IsReplaying;

    /// <summary>
    /// Runs the workflow orchestration <typeparamref name="TOrchestration"/> (resolved from the invocation's services)
    /// on Durable's context, with the input Durable deserialized.
    /// </summary>
    /// <typeparam name="TOrchestration">The workflow's orchestration class.</typeparam>
    /// <typeparam name="TInput">Its input type.</typeparam>
    /// <typeparam name="TOutput">Its output type.</typeparam>
    /// <param name="context">Durable's context.</param>
    /// <param name="function">The invocation, for its services.</param>
    public static Task<TOutput> RunAsync<TOrchestration, TInput, TOutput>(TaskOrchestrationContext context, FunctionContext function)
        where TOrchestration : IOrchestration<TInput, TOutput>
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(function);
        var orchestration = ActivatorUtilities.GetServiceOrCreateInstance<TOrchestration>(function.InstanceServices);
        var input = context.GetInput<TInput>()
            ?? throw new InvalidOperationException($"Orchestration '{context.Name.Name}' ({context.InstanceId}) has no input.");
        return orchestration.RunAsync(new DurableOrchestrationContext(context), input);
    }

    /// <inheritdoc />
    public T? GetInput<T>() => context.GetInput<T>();

    /// <inheritdoc />
    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, ActivityRetryPolicy? retry = null)
    {
        try
        {
            return await context.CallActivityAsync<TResult>(name, input, retry.ToTaskOptions());
        }
        catch (TaskFailedException ex)
        {
            throw ex.ToPort();
        }
    }

    /// <inheritdoc />
    public async Task CallActivityAsync(string name, object? input = null, ActivityRetryPolicy? retry = null)
    {
        try
        {
            await context.CallActivityAsync(name, input, retry.ToTaskOptions());
        }
        catch (TaskFailedException ex)
        {
            throw ex.ToPort();
        }
    }

    /// <inheritdoc />
    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => context.CreateTimer(fireAt, cancellationToken);

    /// <inheritdoc />
    public Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => context.CreateTimer(delay, cancellationToken);

    /// <inheritdoc />
    public Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
        context.WaitForExternalEvent<T>(eventName, cancellationToken);

    /// <inheritdoc />
    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, string? instanceId = null)
    {
        try
        {
            return await context.CallSubOrchestratorAsync<TResult>(
                orchestratorName, input, instanceId is null ? null : new SubOrchestrationOptions(instanceId: instanceId));
        }
        catch (TaskFailedException ex)
        {
            throw ex.ToPort();
        }
    }

    /// <inheritdoc />
    public void SendEvent(string instanceId, string eventName, object? payload) => context.SendEvent(instanceId, eventName, payload!);

    /// <inheritdoc />
    public void SetCustomStatus(object? customStatus) => context.SetCustomStatus(customStatus);

    /// <inheritdoc />
    public Guid NewGuid() => context.NewGuid();

    /// <inheritdoc />
    public void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        context.ContinueAsNew(newInput, preserveUnprocessedEvents);

    /// <inheritdoc />
    public ILogger CreateReplaySafeLogger(string categoryName) => context.CreateReplaySafeLogger(categoryName);

    /// <inheritdoc />
    public ILogger CreateReplaySafeLogger(Type type) => context.CreateReplaySafeLogger(type);

    /// <inheritdoc />
    public ILogger CreateReplaySafeLogger<T>() => context.CreateReplaySafeLogger<T>();
}
