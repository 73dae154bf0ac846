using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Workflow.Intake;

/// <summary>A job that was refused, with every reason; a queue message that throws it ends in the poison queue.</summary>
public sealed class JobRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobRejectedException(IReadOnlyList<FieldError> errors)
        : base("The job is not valid: " + string.Join(" ", (errors ?? throw new ArgumentNullException(nameof(errors))).Select(e => $"[{e.Field}] {e.Message}")))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception.</summary>
    public JobRejectedException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public JobRejectedException(string message)
        : base(message)
    {
        Errors = [];
    }

    /// <summary>Creates the exception.</summary>
    public JobRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    /// <summary>Every problem, by field.</summary>
    public IReadOnlyList<FieldError> Errors { get; }
}
