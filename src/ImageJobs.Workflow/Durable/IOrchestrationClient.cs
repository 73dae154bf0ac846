using System.Runtime.CompilerServices;

namespace ImageJobs.Workflow.Durable;

/// <summary>
/// Starts and manages orchestration instances; mirrors <c>Microsoft.DurableTask.Client.DurableTaskClient</c> by name and meaning.
/// </summary>
public interface IOrchestrationClient
{
    /// <summary>
    /// Schedules a new instance of <paramref name="orchestratorName"/> and returns its id.
    /// </summary>
    /// <remarks>
    /// <para><b>Idempotent start.</b> If an instance with the requested id already exists (in any status, until it is purged),
    /// nothing is scheduled and the same id is returned: the input of the second call is ignored. This differs from
    /// Durable (which throws for a running id and restarts a completed one) on purpose: the pipeline uses the job id as
    /// instance id and the same job submitted twice must not pay twice. To run an id again, purge it first.</para>
    /// <para>If the existing instance belongs to a different orchestration, an <see cref="InvalidOperationException"/> is
    /// thrown (a real conflict, never silently ignored).</para>
    /// </remarks>
    /// <param name="orchestratorName">The orchestration name.</param>
    /// <param name="input">The input, serialized with <see cref="DurableJson.Options"/>.</param>
    /// <param name="options">Instance id and start time.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The instance id.</returns>
    Task<string> ScheduleNewOrchestrationInstanceAsync(
        string orchestratorName, object? input = null, ScheduleOrchestrationOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Gets an instance's status, or <see langword="null"/> if it does not exist.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="getInputsAndOutputs">Whether to include input, output and custom status.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default);

    /// <summary>Raises an external event; it is buffered if the orchestration is not waiting for it yet. Dropped for finished instances.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="eventName">The event name (case-insensitive).</param>
    /// <param name="eventPayload">The payload.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException">The instance does not exist.</exception>
    Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default);

    /// <summary>Terminates a non-terminal instance; <paramref name="output"/> becomes its output.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="output">The termination reason or output.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task TerminateInstanceAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default);

    /// <summary>Suspends an instance: it stops processing (events and completions are kept) until resumed.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="reason">An optional reason.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Resumes a suspended instance.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="reason">An optional reason.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes all state of a terminal instance (history, input, output). Non-terminal instances are left alone.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of purged instances (0 or 1).</returns>
    Task<int> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Returns one page of instances matching <paramref name="query"/>, ordered by instance id.</summary>
    /// <param name="query">The filter, page size and continuation token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<OrchestrationQueryPage> QueryInstancesAsync(OrchestrationInstanceQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Enumerates every instance matching <paramref name="query"/>, page by page (like Durable's <c>GetAllInstancesAsync</c>).</summary>
    /// <param name="query">The filter.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    async IAsyncEnumerable<OrchestrationInstance> GetAllInstancesAsync(
        OrchestrationInstanceQuery? query = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var next = query ?? new OrchestrationInstanceQuery();
        while (true)
        {
            var page = await QueryInstancesAsync(next, cancellationToken);
            foreach (var instance in page.Instances)
            {
                yield return instance;
            }

            if (page.ContinuationToken is null)
            {
                yield break;
            }

            next = next with { ContinuationToken = page.ContinuationToken };
        }
    }

    /// <summary>Waits until the instance is Completed, Failed, Terminated or Canceled.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="getInputsAndOutputs">Whether to include input, output and custom status.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="InvalidOperationException">The instance does not exist.</exception>
    Task<OrchestrationInstance> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default);
}
