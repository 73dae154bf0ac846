namespace ImageJobs.Workflow.Durable;

/// <summary>
/// An activity or sub-orchestration failed; mirrors <c>Microsoft.DurableTask.TaskFailedException</c>.
/// </summary>
public sealed class OrchestrationTaskFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="taskName">The activity or orchestration name.</param>
    /// <param name="taskId">The task's sequence number in the orchestration history.</param>
    /// <param name="failureDetails">What went wrong in the task.</param>
    public OrchestrationTaskFailedException(string taskName, int taskId, OrchestrationFailureDetails failureDetails)
        : base($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails?.ErrorMessage}")
    {
        ArgumentNullException.ThrowIfNull(failureDetails);
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public OrchestrationTaskFailedException()
        : this("unknown", -1, new OrchestrationFailureDetails(nameof(Exception), "unknown"))
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">The message.</param>
    public OrchestrationTaskFailedException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public OrchestrationTaskFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TaskName = "unknown";
        TaskId = -1;
        FailureDetails = innerException is null
            ? new OrchestrationFailureDetails(nameof(Exception), message)
            : OrchestrationFailureDetails.FromException(innerException);
    }

    /// <summary>The activity or orchestration name.</summary>
    public string TaskName { get; }

    /// <summary>The task's sequence number in the history.</summary>
    public int TaskId { get; }

    /// <summary>The failure of the task: <see cref="OrchestrationFailureDetails.ErrorType"/>, message and inner failure.</summary>
    public OrchestrationFailureDetails FailureDetails { get; }
}
