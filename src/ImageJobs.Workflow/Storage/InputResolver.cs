using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;

namespace ImageJobs.Workflow.Storage;

/// <summary>A job's input with every <c>blob:</c> reference resolved, and the inputs in DashScope's temporary storage.</summary>
/// <param name="Input">The input to send.</param>
/// <param name="Uploads">Every <c>oss://</c> input of it (new uploads and reused ones), to record with the submission intent.</param>
public sealed record ResolvedInput(JsonObject Input, IReadOnlyList<TemporaryInput> Uploads);

/// <summary>
/// Turns <c>blob:{container}/{name}</c> image inputs into something DashScope can read (see
/// <see cref="InputResolutionMode"/>): a read-only SAS URL with a short expiry when the storage is publicly reachable;
/// otherwise an inline data URI (at most 10 MB), or an upload to DashScope's temporary storage sent as <c>oss://…</c>
/// where a data URI is not documented for the field or the image is too large for one.
/// <see cref="ImageJobsOptions.InputMode"/> forces one way. Runs inside the submit activity, so image bytes never enter
/// orchestration history. The temporary storage's upload host is checked by the outbound guard before any upload.
/// </summary>
public sealed class InputResolver(BlobServiceClient blobs, ImageJobsOptions options, TimeProvider time, OutboundUrlGuard? guard = null)
{
    /// <summary>An earlier upload is reused only while it has at least this long left.</summary>
    public static readonly TimeSpan MinRemainingUploadLifetime = TimeSpan.FromHours(1);

    /// <summary>How one <c>blob:</c> input of <paramref name="model"/> at <paramref name="field"/>, <paramref name="bytes"/> long, reaches DashScope.</summary>
    public InputResolutionMode ModeFor(string model, string field, long bytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(field);
        if (options.InputMode != InputResolutionMode.Auto)
        {
            return options.InputMode;
        }

        if (IsPubliclyReachable(blobs.Uri))
        {
            return InputResolutionMode.SasUrl;
        }

        return !DashScopeModels.AcceptsDataUri(model, field) || bytes > DashScopeModels.MaxInputImageBytes
            ? InputResolutionMode.TemporaryUpload
            : InputResolutionMode.DataUri;
    }

    /// <summary>
    /// Returns a copy of <paramref name="input"/> with every <c>blob:</c> reference resolved for <paramref name="model"/>.
    /// Inputs that go through the temporary storage reuse <paramref name="earlier"/> uploads of the same blob and field
    /// (while at least <see cref="MinRemainingUploadLifetime"/> is left); new ones share one upload policy.
    /// </summary>
    /// <exception cref="InputResolutionException">A blob is missing, too large or not an image.</exception>
    /// <exception cref="OutboundUrlRefusedException">The outbound guard refused the temporary storage's upload host.</exception>
    /// <exception cref="DashScopeException">The upload policy call or an upload failed.</exception>
    public async Task<ResolvedInput> ResolveAsync(
        string model, JsonObject input, IReadOnlyList<TemporaryInput>? earlier, DashScopeClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(client);
        var resolved = input.DeepClone().AsObject();
        var uploads = new List<TemporaryInput>();
        DashScopeUploadPolicy? policy = null;
        foreach (var (path, node, reference) in BlobInputs(resolved))
        {
            var blob = Blob(reference);
            var source = ImageJobParser.BlobScheme + reference.Container + "/" + reference.Name;
            var mode = options.InputMode != InputResolutionMode.Auto || IsPubliclyReachable(blobs.Uri)
                ? ModeFor(model, path, 0)
                : ModeFor(model, path, await SizeAsync(blob, path, cancellationToken));
            string value;
            if (mode != InputResolutionMode.TemporaryUpload)
            {
                value = mode == InputResolutionMode.DataUri
                    ? await ToDataUriAsync(blob, path, cancellationToken)
                    : (await ToSasUrlAsync(blob, cancellationToken)).AbsoluteUri;
            }
            else if (earlier?.FirstOrDefault(u => u.Field == path && u.Source == source && u.ExpiresAt - time.GetUtcNow() >= MinRemainingUploadLifetime) is { } reused)
            {
                uploads.Add(reused);
                value = reused.Url;
            }
            else
            {
                var (content, contentType) = await ReadImageAsync(blob, path, cancellationToken);
                policy ??= await PolicyAsync(client, model, cancellationToken);
                var fileName = string.Create(CultureInfo.InvariantCulture, $"{uploads.Count}-{FileName(reference.Name, contentType)}");
                using var stream = content.ToStream();
                var file = await client.UploadTemporaryFileAsync(policy, stream, fileName, contentType, cancellationToken);
                var upload = new TemporaryInput(path, source, file.Url, file.ExpiresAt);
                uploads.Add(upload);
                value = upload.Url;
            }

            node.ReplaceWith(JsonValue.Create(value));
        }

        return new ResolvedInput(resolved, uploads);
    }

    private static List<(string Path, JsonValue Node, (string Container, string Name) Reference)> BlobInputs(JsonObject input) =>
        ImageJobParser.ImageFields(input).ToList()
            .Where(f => f.Node.GetValueKind() == System.Text.Json.JsonValueKind.String)
            .Select(f => (f.Path, f.Node, Reference: ImageJobParser.ParseBlobReference(f.Node.GetValue<string>())))
            .Where(f => f.Reference is not null)
            .Select(f => (f.Path, f.Node, f.Reference!.Value))
            .ToList();

    private BlobClient Blob((string Container, string Name) reference) =>
        blobs.GetBlobContainerClient(reference.Container).GetBlobClient(reference.Name);

    private async Task<DashScopeUploadPolicy> PolicyAsync(DashScopeClient client, string model, CancellationToken cancellationToken)
    {
        var policy = await client.GetUploadPolicyAsync(model, cancellationToken);
        if (guard is not null && await guard.CheckAsync(policy.UploadHost, cancellationToken) is { } reason)
        {
            throw new OutboundUrlRefusedException($"DashScope's temporary storage upload host '{policy.UploadHost.Authority}' is refused: {reason}.");
        }

        return policy;
    }

    private static async Task<long> SizeAsync(BlobClient blob, string path, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw Missing(blob, path);
        }
    }

    private static async Task<(BinaryData Content, string ContentType)> ReadImageAsync(BlobClient blob, string path, CancellationToken cancellationToken)
    {
        BinaryData content;
        try
        {
            content = (await blob.DownloadContentAsync(cancellationToken)).Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw Missing(blob, path);
        }

        var mime = DashScopeImageData.DetectMimeType(content.ToMemory().Span)
            ?? throw new InputResolutionException(path, $"{path}: blob '{blob.BlobContainerName}/{blob.Name}' is not a JPEG, PNG, BMP, TIFF or WEBP image.");
        return (content, mime);
    }

    private static string FileName(string blobName, string contentType)
    {
        var name = blobName[(blobName.LastIndexOf('/') + 1)..];
        return string.IsNullOrEmpty(Path.GetExtension(name)) ? name + "." + contentType[(contentType.IndexOf('/', StringComparison.Ordinal) + 1)..] : name;
    }

    private static InputResolutionException Missing(BlobClient blob, string path) =>
        new(path, $"{path}: blob '{blob.BlobContainerName}/{blob.Name}' does not exist.");

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
            throw Missing(blob, path);
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
