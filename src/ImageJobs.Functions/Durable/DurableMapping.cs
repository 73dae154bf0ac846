using ImageJobs.Workflow.Durable;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Durable;

/// <summary>Maps Durable's types to the workflow's port types, member by member (same names, same meaning).</summary>
internal static class DurableMapping
{
    /// <summary><see cref="TaskFailureDetails"/> → <see cref="OrchestrationFailureDetails"/>, inner failures included.</summary>
    public static OrchestrationFailureDetails ToPort(this TaskFailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure?.ToPort());

    /// <summary><see cref="TaskFailedException"/> → <see cref="OrchestrationTaskFailedException"/> (task name, id, failure).</summary>
    public static OrchestrationTaskFailedException ToPort(this TaskFailedException exception) =>
        new(exception.TaskName, exception.TaskId, exception.FailureDetails.ToPort());

    /// <summary>
    /// <see cref="OrchestrationRuntimeStatus"/> → <see cref="OrchestrationStatus"/>: the port declares the same members
    /// with the same values (checked by the wiring test), so the value carries over.
    /// </summary>
    public static OrchestrationStatus ToPort(this OrchestrationRuntimeStatus status) => (OrchestrationStatus)(int)status;

    /// <summary><see cref="OrchestrationStatus"/> → <see cref="OrchestrationRuntimeStatus"/>.</summary>
    public static OrchestrationRuntimeStatus ToDurable(this OrchestrationStatus status) => (OrchestrationRuntimeStatus)(int)status;

    /// <summary><see cref="OrchestrationMetadata"/> → <see cref="OrchestrationInstance"/>.</summary>
    public static OrchestrationInstance ToPort(this OrchestrationMetadata metadata) =>
        new(metadata.Name, metadata.InstanceId)
        {
            RuntimeStatus = metadata.RuntimeStatus.ToPort(),
            CreatedAt = metadata.CreatedAt,
            LastUpdatedAt = metadata.LastUpdatedAt,
            SerializedInput = metadata.SerializedInput,
            SerializedOutput = metadata.SerializedOutput,
            SerializedCustomStatus = metadata.SerializedCustomStatus,
            FailureDetails = metadata.FailureDetails?.ToPort(),
        };

    /// <summary>
    /// <see cref="ActivityRetryPolicy"/> → <see cref="TaskOptions"/> with a <see cref="RetryPolicy"/> of the same numbers;
    /// the port's failure filter becomes <see cref="RetryPolicy.HandleFailure"/>.
    /// </summary>
    public static TaskOptions? ToTaskOptions(this ActivityRetryPolicy? policy)
    {
        if (policy is null)
        {
            return null;
        }

        var retry = policy.HandleFailure is { } handle
            ? new RetryPolicy(policy.MaxNumberOfAttempts, policy.FirstRetryInterval, policy.BackoffCoefficient, policy.MaxRetryInterval, policy.RetryTimeout)
            {
                HandleFailure = details => handle(details.ToPort()),
            }
            : new RetryPolicy(policy.MaxNumberOfAttempts, policy.FirstRetryInterval, policy.BackoffCoefficient, policy.MaxRetryInterval, policy.RetryTimeout);
        return new TaskOptions(retry);
    }
}
