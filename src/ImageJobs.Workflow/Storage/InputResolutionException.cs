namespace ImageJobs.Workflow.Storage;

/// <summary>Thrown when a job's image input cannot be resolved (missing blob, too large, not an image). Not retried.</summary>
public sealed class InputResolutionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InputResolutionException(string field, string message)
        : base(message) => Field = field;

    /// <summary>Creates the exception.</summary>
    public InputResolutionException()
    {
        Field = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public InputResolutionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public InputResolutionException(string message)
        : base(message)
    {
        Field = string.Empty;
    }

    /// <summary>The JSON path of the input, e.g. <c>input.base_image_url</c>.</summary>
    public string Field { get; }
}
