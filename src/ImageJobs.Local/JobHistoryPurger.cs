using ImageJobs.Workflow.Jobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local;

/// <summary>
/// The local twin of the Functions app's <c>PurgeJobHistory</c> timer: <see cref="JobHistoryRetention"/> at start and
/// then every <see cref="JobHistoryRetention.Interval"/>. A failed purge is logged and tried again at the next one.
/// </summary>
public sealed class JobHistoryPurger(JobHistoryRetention retention, DurableTaskClient client, TimeProvider time, ILogger<JobHistoryPurger> logger)
    : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await retention.PurgeAsync(client, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.PurgeFailed(logger, ex.Message);
                }

                await Task.Delay(JobHistoryRetention.Interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
