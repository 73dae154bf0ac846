using System.Reflection;

namespace ImageJobs.Workflow.Durable;

/// <summary>
/// Why a task or orchestration failed; mirrors <c>Microsoft.DurableTask.TaskFailureDetails</c>.
/// </summary>
/// <param name="ErrorType">The full name of the exception type.</param>
/// <param name="ErrorMessage">The exception message.</param>
/// <param name="StackTrace">The stack trace, when known.</param>
/// <param name="InnerFailure">The inner failure, when there is one.</param>
public sealed record OrchestrationFailureDetails(
    string ErrorType,
    string ErrorMessage,
    string? StackTrace = null,
    OrchestrationFailureDetails? InnerFailure = null)
{
    /// <summary>Captures an exception (and its inner exceptions).</summary>
    /// <param name="exception">The exception.</param>
    public static OrchestrationFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is OrchestrationTaskFailedException taskFailed)
        {
            return new OrchestrationFailureDetails(
                exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace, taskFailed.FailureDetails);
        }

        return new OrchestrationFailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            exception.StackTrace,
            exception.InnerException is { } inner ? FromException(inner) : null);
    }

    /// <summary>Whether the failure was caused by <typeparamref name="TException"/> or a type derived from it.</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    public bool IsCausedBy<TException>()
        where TException : Exception
    {
        if (string.Equals(ErrorType, typeof(TException).FullName, StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (FindType(assembly, ErrorType) is { } type)
            {
                return typeof(TException).IsAssignableFrom(type);
            }
        }

        return false;
    }

    private static Type? FindType(Assembly assembly, string name)
    {
        try
        {
            return assembly.GetType(name, throwOnError: false);
        }
        catch (IOException)
        {
            return null;
        }
        catch (BadImageFormatException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{ErrorType}: {ErrorMessage}";
}
