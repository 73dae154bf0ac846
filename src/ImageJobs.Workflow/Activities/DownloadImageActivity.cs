using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Activities;

/// <summary>Copies one result image into blob storage (idempotent; see <see cref="ResultImageStore"/>).</summary>
public sealed class DownloadImageActivity(ResultImageStore store, ImageJobsOptions options) : TaskActivity<DownloadRequest, JobImage>
{
    /// <inheritdoc />
    public override Task<JobImage> RunAsync(TaskActivityContext context, DownloadRequest input) => RunAsync(input, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<JobImage> RunAsync(DownloadRequest input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var url = input.Result.Url!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !IsResultSource(uri))
        {
            return JobImage.Failed(input.Index, new JobError("UrlRefused",
                $"Result host '{uri?.Host}' is neither a DashScope result host nor listed in ImageJobs:ResultHosts."));
        }

        var metadata = new Dictionary<string, string>
        {
            [BlobMetadata.JobId] = input.JobId,
            [BlobMetadata.Model] = input.Model,
            [BlobMetadata.TaskId] = input.TaskId,
            [BlobMetadata.Index] = input.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (input.Seed is { } seed)
        {
            metadata[BlobMetadata.Seed] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (input.Result.OrigPrompt is { } orig)
        {
            metadata[BlobMetadata.OrigPrompt] = BlobMetadata.EncodeText(orig);
        }

        if (input.Result.ActualPrompt is { } actual)
        {
            metadata[BlobMetadata.ActualPrompt] = BlobMetadata.EncodeText(actual);
        }

        try
        {
            var outcome = await store.CopyAsync(new ResultImageCopy(url, input.Output.Container, input.Output.ImageBlobName(input.JobId, input.Index), metadata, options.MaxResultImageBytes), cancellationToken);
            return outcome.Image is { } image
                ? JobImage.Stored(input.Index, input.Output.Container, image)
                : JobImage.Failed(input.Index, new JobError(outcome.ErrorCode!, outcome.ErrorMessage!));
        }
        catch (OutboundUrlRefusedException ex)
        {
            return JobImage.Failed(input.Index, new JobError("UrlRefused", ex.Message));
        }
    }

    private bool IsResultSource(Uri uri)
    {
        if (DashScopeResultHosts.IsResultUrl(uri))
        {
            return true;
        }

        var authority = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        return options.ResultHosts.Any(h => string.Equals(h, uri.Host, StringComparison.OrdinalIgnoreCase) || string.Equals(h, authority, StringComparison.OrdinalIgnoreCase));
    }
}
