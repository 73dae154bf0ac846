using System.Collections.Concurrent;
using Azure;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Polling;

namespace ImageJobs.Workflow.Pipeline;

/// <summary>
/// Learns each model's recent running times (the last <see cref="Keep"/>, kept in storage) and turns them into the
/// <see cref="DurationWindow"/> the poll schedule plans with. Best effort: a lost update only loses a sample.
/// </summary>
public sealed class DurationLearning(JobStateStore state, ImageJobsOptions options, TimeProvider time)
{
    /// <summary>How many samples are kept per model.</summary>
    public const int Keep = 50;

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (DurationWindow Window, DateTimeOffset At)> _cache = new(StringComparer.Ordinal);

    /// <summary>The window to plan polls of <paramref name="model"/> with.</summary>
    public async Task<DurationWindow> GetWindowAsync(string model, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(model, out var cached) && time.GetUtcNow() - cached.At < CacheFor)
        {
            return cached.Window;
        }

        var (seconds, _) = await state.GetDurationsAsync(model, cancellationToken);
        var window = DurationWindow.Learn([.. seconds.Select(TimeSpan.FromSeconds)], Documented(model));
        _cache[model] = (window, time.GetUtcNow());
        return window;
    }

    /// <summary>Adds one observed running time.</summary>
    public async Task RecordAsync(string model, TimeSpan duration, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (seconds, etag) = await state.GetDurationsAsync(model, cancellationToken);
            var next = seconds.Append(duration.TotalSeconds).TakeLast(Keep).ToArray();
            try
            {
                await state.PutDurationsAsync(model, next, etag, cancellationToken);
                _cache.TryRemove(model, out _);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Someone else recorded at the same time; read again.
            }
        }
    }

    /// <summary>The documented window of a model, scaled by <see cref="ImageJobsOptions.ExpectedDurationScale"/>.</summary>
    public DurationWindow Documented(string model)
    {
        var profile = DashScopeModels.GetProfile(model);
        return new DurationWindow(profile.TypicalLatencyMin * options.ExpectedDurationScale, profile.TypicalLatencyMax * options.ExpectedDurationScale);
    }
}

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
