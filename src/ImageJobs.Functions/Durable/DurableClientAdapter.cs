using ImageJobs.Workflow.Durable;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Durable;

/// <summary>
/// The workflow's <see cref="IOrchestrationClient"/> over the <see cref="DurableTaskClient"/> a <c>[DurableClient]</c>
/// binding hands a function: delegation, plus the port's idempotent start (an existing id is returned, not restarted).
/// </summary>
/// <param name="client">The bound client.</param>
public sealed class DurableClientAdapter(DurableTaskClient client) : IOrchestrationClient
{
    /// <inheritdoc />
    public async Task<string> ScheduleNewOrchestrationInstanceAsync(
        string orchestratorName, object? input = null, ScheduleOrchestrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        // Durable restarts a finished instance and throws for a running one; the port returns the id either way.
        if (options?.InstanceId is { } id && await ExistingAsync(orchestratorName, id, cancellationToken) is { } existing)
        {
            return existing;
        }

        try
        {
            return await client.ScheduleNewOrchestrationInstanceAsync(
                orchestratorName, input, new StartOrchestrationOptions(options?.InstanceId, options?.StartAt), cancellationToken);
        }
        catch (Exception) when (options?.InstanceId is not null && !cancellationToken.IsCancellationRequested)
        {
            // Another trigger may have scheduled the same id between the check and the call ("already exists").
            if (await ExistingAsync(orchestratorName, options.InstanceId, cancellationToken) is { } raced)
            {
                return raced;
            }

            throw;
        }
    }

    /// <inheritdoc />
    public async Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default) =>
        (await client.GetInstanceAsync(instanceId, getInputsAndOutputs, cancellationToken))?.ToPort();

    /// <inheritdoc />
    public Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default) =>
        client.RaiseEventAsync(instanceId, eventName, eventPayload, cancellationToken);

    /// <inheritdoc />
    public Task TerminateInstanceAsync(string instanceId, object? output = null, CancellationToken cancellationToken = default) =>
        client.TerminateInstanceAsync(instanceId, output, cancellationToken);

    /// <inheritdoc />
    public Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        client.SuspendInstanceAsync(instanceId, reason, cancellationToken);

    /// <inheritdoc />
    public Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        client.ResumeInstanceAsync(instanceId, reason, cancellationToken);

    /// <inheritdoc />
    public async Task<int> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default) =>
        (await client.PurgeInstanceAsync(instanceId, cancellationToken)).PurgedInstanceCount;

    /// <inheritdoc />
    public async Task<OrchestrationQueryPage> QueryInstancesAsync(OrchestrationInstanceQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new OrchestrationInstanceQuery();
        var filter = new OrchestrationQuery(
            CreatedFrom: query.CreatedFrom,
            CreatedTo: query.CreatedTo,
            Statuses: query.Statuses?.Select(s => s.ToDurable()).ToList(),
            InstanceIdPrefix: query.InstanceIdPrefix,
            PageSize: query.PageSize,
            FetchInputsAndOutputs: query.FetchInputsAndOutputs,
            ContinuationToken: query.ContinuationToken);
        await foreach (var page in client.GetAllInstancesAsync(filter).AsPages(query.ContinuationToken, query.PageSize).WithCancellation(cancellationToken))
        {
            return new OrchestrationQueryPage(
                [.. page.Values.Select(m => m.ToPort())],
                string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }

        return new OrchestrationQueryPage([], null);
    }

    /// <inheritdoc />
    public async Task<OrchestrationInstance> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default) =>
        (await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs, cancellationToken)).ToPort();

    private async Task<string?> ExistingAsync(string orchestratorName, string instanceId, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not { } existing)
        {
            return null;
        }

        return string.Equals(existing.Name, orchestratorName, StringComparison.OrdinalIgnoreCase)
            ? existing.InstanceId
            : throw new InvalidOperationException(
                $"Instance '{instanceId}' already exists as orchestration '{existing.Name}', not '{orchestratorName}'.");
    }
}
