using System.Collections.Concurrent;

namespace ImageJobs.Workflow.Provider;

/// <summary>
/// Counts the jobs polling in this process, in all and per model, so polls can share the account's query budget; and,
/// per model, how many were submitted before a given job (the provider runs each model's tasks first in, first out).
/// </summary>
public sealed class ActivePollers(TimeProvider time)
{
    private static readonly TimeSpan Stale = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<string, (string Model, DateTimeOffset At, DateTimeOffset Submitted)> _seen = new(StringComparer.Ordinal);

    /// <summary>
    /// Notes that <paramref name="jobId"/> polled now; returns how many jobs are polling, in all and for
    /// <paramref name="model"/>, and how many of the latter were submitted before <paramref name="submitted"/>
    /// (the job's task submit time; now when the provider gave none).
    /// </summary>
    public (int All, int SameModel, int Ahead) Touch(string jobId, string model, DateTimeOffset? submitted = null)
    {
        var now = time.GetUtcNow();
        var mine = submitted ?? now;
        _seen[jobId] = (model, now, mine);
        int all = 0, same = 0, ahead = 0;
        foreach (var (id, seen) in _seen)
        {
            if (now - seen.At > Stale)
            {
                _seen.TryRemove(id, out _);
                continue;
            }

            all++;
            if (seen.Model == model)
            {
                same++;
                ahead += seen.Submitted < mine || (seen.Submitted == mine && string.CompareOrdinal(id, jobId) < 0) ? 1 : 0;
            }
        }

        return (all, same, ahead);
    }

    /// <summary>Notes that <paramref name="jobId"/> stopped polling.</summary>
    public void Remove(string jobId) => _seen.TryRemove(jobId, out _);
}
