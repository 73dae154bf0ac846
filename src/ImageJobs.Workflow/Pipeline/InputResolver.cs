using System.Net;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Results;

namespace ImageJobs.Workflow.Pipeline;

/// <summary>Thrown when a job's image input cannot be resolved (missing blob, too large, not an image). Not retried.</summary>
public sealed class InputResolutionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InputResolutionException(string field, string message)
        : base(message) => Field = field;

    /// <summary>Creates the exception.</summary>
    public InputResolutionException()
    {
        Field = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public InputResolutionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public InputResolutionException(string message)
        : base(message)
    {
        Field = string.Empty;
    }

    /// <summary>The JSON path of the input, e.g. <c>input.base_image_url</c>.</summary>
    public string Field { get; }
}

/// <summary>
/// Turns <c>blob:{container}/{name}</c> image inputs into something DashScope can read: a read-only SAS URL with a short
/// expiry when the storage is publicly reachable, or an inline data URI (at most 10 MB) when it is not (Azurite,
/// loopback, private). <see cref="ImageJobsOptions.InputMode"/> forces either. Runs inside the submit activity, so image
/// bytes never enter orchestration history.
/// </summary>
public sealed class InputResolver(BlobServiceClient blobs, ImageJobsOptions options, TimeProvider time)
{
    /// <summary>Whether inputs will be inlined as data URIs with the current settings and storage.</summary>
    public bool UsesDataUris => options.InputMode switch
    {
        InputResolutionMode.DataUri => true,
        InputResolutionMode.SasUrl => false,
        _ => !IsPubliclyReachable(blobs.Uri),
    };

    /// <summary>Returns a copy of <paramref name="input"/> with every <c>blob:</c> reference resolved.</summary>
    public async Task<JsonObject> ResolveAsync(JsonObject input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var resolved = input.DeepClone().AsObject();
        foreach (var (path, node) in ImageJobParser.ImageFields(resolved).ToList())
        {
            if (node.GetValueKind() != System.Text.Json.JsonValueKind.String
                || ImageJobParser.ParseBlobReference(node.GetValue<string>()) is not { } reference)
            {
                continue;
            }

            var blob = blobs.GetBlobContainerClient(reference.Container).GetBlobClient(reference.Name);
            node.ReplaceWith(JsonValue.Create(UsesDataUris
                ? await ToDataUriAsync(blob, path, cancellationToken)
                : (await ToSasUrlAsync(blob, cancellationToken)).AbsoluteUri));
        }

        return resolved;
    }

    private static async Task<string> ToDataUriAsync(BlobClient blob, string path, CancellationToken cancellationToken)
    {
        try
        {
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
            if (properties.Value.ContentLength > DashScopeModels.MaxInputImageBytes)
            {
                throw new InputResolutionException(path, $"{path}: blob '{blob.BlobContainerName}/{blob.Name}' is {properties.Value.ContentLength} bytes; inline inputs may be at most 10 MB.");
            }

            var content = await blob.DownloadContentAsync(cancellationToken);
            return DashScopeImageData.ToDataUri(content.Value.Content.ToMemory().Span);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new InputResolutionException(path, $"{path}: blob '{blob.BlobContainerName}/{blob.Name}' does not exist.");
        }
        catch (ArgumentException ex)
        {
            throw new InputResolutionException(path, $"{path}: {ex.Message}");
        }
    }

    private Task<Uri> ToSasUrlAsync(BlobClient blob, CancellationToken cancellationToken) =>
        ReadLinks.CreateAsync(blobs, blob, time, options.InputSasLifetime, cancellationToken);

    /// <summary>Whether DashScope could fetch from this storage endpoint: not loopback, private or the development account.</summary>
    public static bool IsPubliclyReachable(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.IsLoopback || endpoint.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return !IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var address) || OutboundUrlGuard.Classify(address) is null;
    }
}
