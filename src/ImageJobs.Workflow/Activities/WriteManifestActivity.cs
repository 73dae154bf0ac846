using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Activities;

/// <summary>Writes <c>manifest.json</c> next to a job's images: the job (inline image data elided) and its result.</summary>
public sealed class WriteManifestActivity(BlobServiceClient blobs) : TaskActivity<CompletionDelivery, bool>
{
    /// <inheritdoc />
    public override Task<bool> RunAsync(TaskActivityContext context, CompletionDelivery input) => RunAsync(input, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<bool> RunAsync(CompletionDelivery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var job = input.Job;
        var elided = job.Input.DeepClone().AsObject();
        foreach (var (_, node) in ImageJobParser.ImageFields(elided).ToList())
        {
            if (node.GetValueKind() == JsonValueKind.String && node.GetValue<string>() is { } value && value.StartsWith("data:", StringComparison.Ordinal))
            {
                node.ReplaceWith(JsonValue.Create($"{value[..Math.Min(value.Length, value.IndexOf(',', StringComparison.Ordinal) + 1)]}… ({value.Length} characters)"));
            }
        }

        var manifest = new
        {
            jobId = job.JobId,
            model = job.Model,
            input = elided,
            parameters = job.Parameters,
            output = job.Output,
            result = input.Event.Data,
        };
        var container = blobs.GetBlobContainerClient(job.Output.Container);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await container.GetBlobClient(job.Output.ManifestBlobName(job.JobId)).UploadAsync(
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJson)),
            new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Metadata = new Dictionary<string, string> { [BlobMetadata.JobId] = job.JobId },
            },
            cancellationToken);
        return true;
    }

    private static readonly JsonSerializerOptions ManifestJson = new(DurableJson.Options) { WriteIndented = true };
}
