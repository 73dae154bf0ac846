using ImageJobs.Workflow.Hosting;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Workflow.Jobs;

/// <summary>
/// Purges the durable state of ended jobs (Completed, Failed or Terminated instances: their history, instance row and
/// large-message blobs) created more than <see cref="RetentionOptions.JobHistory"/> ago, so the task hub's
/// tables stay small. Result images and manifests are never touched: their lifetime is the storage account's lifecycle
/// policy (infra/). A purged job is gone from the jobs API. Both hosts run it once an hour, and the local host also at start.
/// </summary>
public sealed class JobHistoryRetention(ImageJobsOptions options, TimeProvider time, ILogger<JobHistoryRetention> logger)
{
    /// <summary>How often the hosts purge.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>The Functions timer schedule (NCRONTAB, with seconds) for <see cref="Interval"/>: at minute 0 of every hour.</summary>
    public const string Schedule = "0 0 * * * *";

    private static readonly OrchestrationRuntimeStatus[] Ended =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    /// <summary>Purges what is older than the retention; returns how many instances went (0 when retention is off).</summary>
    public async Task<int> PurgeAsync(DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (options.Retention.JobHistory <= TimeSpan.Zero)
        {
            return 0;
        }

        var before = time.GetUtcNow() - options.Retention.JobHistory;
        var purged = await client.PurgeAllInstancesAsync(new PurgeInstancesFilter(CreatedFrom: null, CreatedTo: before, Statuses: Ended), cancellationToken);
        if (purged.PurgedInstanceCount > 0)
        {
            Log.HistoryPurged(logger, purged.PurgedInstanceCount, before);
        }

        return purged.PurgedInstanceCount;
    }
}
