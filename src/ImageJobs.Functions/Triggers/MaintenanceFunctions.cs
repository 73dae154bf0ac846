using ImageJobs.Workflow.Jobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Triggers;

/// <summary>The app's housekeeping: <see cref="JobHistoryRetention"/> once an hour.</summary>
/// <param name="retention">The purge.</param>
public sealed class MaintenanceFunctions(JobHistoryRetention retention)
{
    /// <summary>Purges the durable state of jobs that ended longer ago than <c>ImageJobs:Retention:JobHistory</c>.</summary>
    [Function("PurgeJobHistory")]
    public Task PurgeJobHistory(
        [TimerTrigger(JobHistoryRetention.Schedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        retention.PurgeAsync(client, cancellationToken);
}
