using System.Collections.Concurrent;
using Azure;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;

namespace ImageJobs.Workflow.Provider;

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
