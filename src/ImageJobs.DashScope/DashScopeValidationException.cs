using System.Globalization;
using System.Text;

namespace ImageJobs.DashScope;

/// <summary>One validation failure: the JSON path of the field (for example <c>parameters.size</c>) and a message
/// that names the field and the allowed values.</summary>
/// <param name="Field">The JSON path in DashScope's request shape: <c>model</c>, <c>input.prompt</c>,
/// <c>input.images[1]</c>, <c>parameters.n</c>…</param>
/// <param name="Message">What is wrong and what is allowed.</param>
public sealed record DashScopeValidationError(string Field, string Message);

/// <summary>
/// Thrown before any request is sent when a request breaks the per-model rules. <see cref="Errors"/> holds every
/// failure, not just the first; the message lists them all.
/// </summary>
public class DashScopeValidationException : ArgumentException
{
    /// <summary>Creates an exception without errors.</summary>
    public DashScopeValidationException()
        : this("The DashScope request is invalid.")
    {
    }

    /// <summary>Creates an exception with a message and no errors.</summary>
    /// <param name="message">The message.</param>
    public DashScopeValidationException(string message)
        : base(message)
    {
        Errors = [];
    }

    /// <summary>Creates an exception with a message, an inner exception and no errors.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DashScopeValidationException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    /// <summary>Creates an exception listing every failure.</summary>
    /// <param name="errors">The failures (at least one).</param>
    public DashScopeValidationException(IReadOnlyList<DashScopeValidationError> errors)
        : base(BuildMessage(errors), "request")
    {
        Errors = errors;
    }

    /// <summary>Every failure, in the order the fields were checked.</summary>
    public IReadOnlyList<DashScopeValidationError> Errors { get; }

    private static string BuildMessage(IReadOnlyList<DashScopeValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var text = new StringBuilder("The DashScope request is invalid (")
            .Append(errors.Count.ToString(CultureInfo.InvariantCulture))
            .Append(errors.Count == 1 ? " error): " : " errors): ");
        for (var i = 0; i < errors.Count; i++)
        {
            text.Append(i == 0 ? string.Empty : " ").Append(errors[i].Message);
        }

        return text.ToString();
    }
}
