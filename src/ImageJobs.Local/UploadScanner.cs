using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using ImageJobs.Workflow;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local;

/// <summary>
/// The <c>uploads</c> blob trigger of the local host: it scans the container and starts one image-edit job per new blob
/// (in Azure, Event Grid delivers the same events to the Functions app). A receipt <c>{state container}/uploads/{jobId}</c>
/// remembers each blob handled, started or not; the job id comes from name + ETag, so a blob seen twice still pays
/// once. A blob that cannot become a job is recorded against that blob (its receipt, one log line and a record in
/// <c>image-jobs-poison</c>, all with the reason) and the scan goes on with the next one; a storage failure on one
/// blob skips it until the next scan.
/// <para>Several processes may scan one container (<c>serve --instances N</c>, or several hosts on one account): the
/// receipt is created only if absent, so only the scan that creates it logs and records a refused upload; two scans that
/// start the same job at the same moment both reach the task hub, whose Azure Storage provider keeps one start (the
/// Instances row is inserted once, and the other start message, whose execution id does not match it, is discarded
/// unrun). Both scans may then log that they started the job; it runs and is paid for once.</para>
/// </summary>
public sealed class UploadScanner(
    BlobServiceClient blobs, DurableTaskClient client, JobIntake intake, PoisonRecords poison, UploadOptions uploads, ImageJobsOptions options, ILogger<UploadScanner> logger)
    : BackgroundService
{
    /// <summary>How often the container is scanned.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var container = blobs.GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
        var receipts = blobs.GetBlobContainerClient(options.StateContainer);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await container.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                await receipts.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                await foreach (var item in container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Traits = Azure.Storage.Blobs.Models.BlobTraits.Metadata }, stoppingToken))
                {
                    await HandleAsync(receipts, item, stoppingToken);
                }

                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage down: log it and scan again, rather than stop handling uploads.
                Log.UploadScanFailed(logger, ex);
                await Task.Delay(Interval, stoppingToken);
            }
        }
    }

    private async Task HandleAsync(BlobContainerClient receipts, Azure.Storage.Blobs.Models.BlobItem item, CancellationToken cancellationToken)
    {
        var jobId = JobIntake.UploadJobId(item.Name, item.Properties.ETag?.ToString() ?? string.Empty);
        var receipt = receipts.GetBlobClient($"uploads/{jobId}");
        try
        {
            if (await receipt.ExistsAsync(cancellationToken))
            {
                return;
            }

            var body = JobIntake.UploadJob(item.Name, item.Properties.ETag?.ToString() ?? string.Empty, item.Metadata, uploads);
            var (id, started) = await intake.ValidateAndStartAsync(client, body, jobId, cancellationToken);
            await WriteReceiptAsync(receipt, item.Name, id, null, cancellationToken);
            if (started)
            {
                HostLog.UploadStartedJob(logger, item.Name, id);
            }
            else
            {
                Log.UploadAlreadyStarted(logger, item.Name, id);
            }
        }
        catch (Exception ex) when ((ex is RequestFailedException or HttpRequestException) && !cancellationToken.IsCancellationRequested)
        {
            Log.UploadStorageFailed(logger, item.Name, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The blob itself cannot become a job (refused, or its metadata breaks the intake): record it once.
            if (await WriteReceiptAsync(receipt, item.Name, null, ex.Message, cancellationToken))
            {
                await poison.SendUploadAsync(item.Name, ex, cancellationToken);
                HostLog.UploadRejected(logger, item.Name, ex.Message);
            }
        }
    }

    // True when this scan wrote the receipt (false when another scan got there first).
    private static async Task<bool> WriteReceiptAsync(BlobClient receipt, string blobName, string? jobId, string? error, CancellationToken cancellationToken)
    {
        var content = new JsonObject { ["blob"] = blobName, ["jobId"] = jobId, ["error"] = error };
        try
        {
            await receipt.UploadAsync(BinaryData.FromString(content.ToJsonString()), overwrite: false, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }
}
