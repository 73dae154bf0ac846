using System.Text.RegularExpressions;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>
/// Reads <c>serve</c>'s console for submits a crash cut off mid-call. DashScope has no idempotency key: when a process
/// dies between sending a submit and recording the task id it got, the next attempt cannot tell whether the provider
/// took the first one, submits again, and says so (<c>SubmitTaskActivity</c>, event 2101). Those are the only submits
/// that may be paid twice.
/// </summary>
internal static partial class UnconfirmedSubmits
{
    /// <summary>The jobs that submitted again over an unconfirmed intent, anywhere in <paramref name="log"/>.</summary>
    public static IReadOnlySet<string> In(string log) =>
        Pattern().Matches(log).Select(m => m.Groups["job"].Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"Job (?<job>\S+) has a submit intent without a task id")]
    private static partial Regex Pattern();
}
