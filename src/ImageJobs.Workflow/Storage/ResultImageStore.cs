using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ImageJobs.Workflow.Storage;

/// <summary>
/// Streams result images from the provider into block blobs. The content is hashed (SHA-256) and measured on the way.
/// An image that fits in one 4 MiB block is written with one create-only Put Blob; a larger one is staged in 4 MiB blocks
/// and committed once. Either way the metadata comes with the one write, so a blob that exists is always complete: a
/// retried copy that finds the blob with its <c>sha256</c> metadata counts as done and writes nothing.
/// </summary>
public sealed class ResultImageStore(BlobServiceClient blobs, HttpClient http)
{
    private const int BlockSize = 4 * 1024 * 1024;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _containers = new(StringComparer.Ordinal);

    /// <summary>Copies one image; throws only for failures worth retrying (network, 5xx, storage).</summary>
    public async Task<ResultImageOutcome> CopyAsync(ResultImageCopy copy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(copy);
        var container = blobs.GetBlobContainerClient(copy.Container);
        if (!_containers.ContainsKey(copy.Container))
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            _containers.TryAdd(copy.Container, true);
        }

        if (await TryGetStoredAsync(container, copy.BlobName, cancellationToken) is { } existing)
        {
            return new ResultImageOutcome(existing, AlreadyStored: true);
        }

        using var response = await http.GetAsync(new Uri(copy.SourceUrl), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return new ResultImageOutcome(null, "ResultUrlExpired",
                $"The result URL answered {(int)response.StatusCode}: it has expired (DashScope keeps results for 24 hours) or was never valid.");
        }

        response.EnsureSuccessStatusCode();
        var declaredType = response.Content.Headers.ContentType?.MediaType;
        if (declaredType is not null && !declaredType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            && declaredType != "application/octet-stream")
        {
            return new ResultImageOutcome(null, "UnexpectedContentType", $"The result URL returned '{declaredType}', not an image.");
        }

        if (response.Content.Headers.ContentLength > copy.MaxBytes)
        {
            return TooLarge(copy.MaxBytes);
        }

        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            var filled = await FillAsync(source, buffer, BlockSize, cancellationToken);
            if (filled == 0)
            {
                return new ResultImageOutcome(null, "UnexpectedContentType", "The result URL returned an empty body.");
            }

            if (filled > copy.MaxBytes)
            {
                return TooLarge(copy.MaxBytes);
            }

            if (!ImageInfo.TryRead(buffer.AsSpan(0, filled), out var mime, out var w, out var h))
            {
                return new ResultImageOutcome(null, "UnexpectedContentType", "The result URL did not return a recognised image.");
            }

            // Named by what the image is, whatever the URL or its Content-Type header say.
            var blob = container.GetBlockBlobClient(NameFor(copy.BlobName, mime));
            var (width, height) = w > 0 ? (w, h) : ((int?)null, (int?)null);
            long total = filled;
            if (filled < BlockSize)
            {
                // The whole image is in the first block: one create-only Put Blob instead of Put Block + Put Block List.
                sha.AppendData(buffer, 0, filled);
                var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
                using var content = new MemoryStream(buffer, 0, filled, writable: false);
                return await CreateOnlyAsync(blob, hash, mime, width, height, total, copy, conditions =>
                    blob.UploadAsync(content, new BlobUploadOptions
                    {
                        HttpHeaders = new BlobHttpHeaders { ContentType = mime },
                        Metadata = Metadata(copy, hash, width, height),
                        Conditions = conditions,
                    }, cancellationToken), cancellationToken);
            }

            var blockIds = new List<string>();
            while (filled > 0)
            {
                sha.AppendData(buffer, 0, filled);
                var blockId = Convert.ToBase64String(BitConverter.GetBytes(blockIds.Count).Concat(new byte[4]).ToArray());
                using (var block = new MemoryStream(buffer, 0, filled, writable: false))
                {
                    await blob.StageBlockAsync(blockId, block, cancellationToken: cancellationToken);
                }

                blockIds.Add(blockId);
                filled = await FillAsync(source, buffer, BlockSize, cancellationToken);
                total += filled;
                if (total > copy.MaxBytes)
                {
                    return TooLarge(copy.MaxBytes);
                }
            }

            var blockHash = Convert.ToHexStringLower(sha.GetHashAndReset());
            return await CreateOnlyAsync(blob, blockHash, mime, width, height, total, copy, conditions =>
                blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = mime },
                    Metadata = Metadata(copy, blockHash, width, height),
                    Conditions = conditions,
                }, cancellationToken), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Dictionary<string, string> Metadata(ResultImageCopy copy, string hash, int? width, int? height)
    {
        var metadata = new Dictionary<string, string>(copy.Metadata) { [BlobMetadata.Sha256] = hash };
        if (width is not null)
        {
            metadata[BlobMetadata.Width] = width.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metadata[BlobMetadata.Height] = height!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return metadata;
    }

    /// <summary>
    /// Writes the blob with <c>If-None-Match: *</c>, so the write is create-only: of two racing copies exactly one writes
    /// it, and the other reports the stored one.
    /// </summary>
    private static async Task<ResultImageOutcome> CreateOnlyAsync<T>(BlockBlobClient blob, string hash, string mime, int? width, int? height,
        long total, ResultImageCopy copy, Func<BlobRequestConditions, Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            await write(new BlobRequestConditions { IfNoneMatch = ETag.All });
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            if (await TryGetStoredAsync(blob, cancellationToken) is { } raced)
            {
                return new ResultImageOutcome(raced, AlreadyStored: true);
            }

            throw;
        }

        return new ResultImageOutcome(new StoredImage(blob.Name, total, hash, mime, width, height));
    }

    private static ResultImageOutcome TooLarge(long max) =>
        new(null, "ImageTooLarge", $"The result image is larger than the {max} bytes allowed (ImageJobs:MaxResultImageBytes).");

    /// <summary><paramref name="blobName"/> with the extension of <paramref name="mimeType"/> in place of its own.</summary>
    public static string NameFor(string blobName, string mimeType)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        return Stem(blobName) + ImageInfo.ExtensionFor(mimeType);
    }

    private static string Stem(string blobName)
    {
        var dot = blobName.LastIndexOf('.');
        return dot > blobName.LastIndexOf('/') ? blobName[..dot] : blobName;
    }

    /// <summary>
    /// The image stored for <paramref name="blobName"/> under any type's extension (a retried or replayed copy): one
    /// listing of <c>{stem}.</c> with metadata, where a point read would miss <c>{stem}.jpg</c> and a second request
    /// would find it. A committed blob without our hash (not written by this store) does not count.
    /// </summary>
    private static async Task<StoredImage?> TryGetStoredAsync(BlobContainerClient container, string blobName, CancellationToken cancellationToken)
    {
        var prefix = Stem(blobName) + ".";
        StoredImage? other = null;
        await foreach (var item in container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix, Traits = BlobTraits.Metadata }, cancellationToken))
        {
            if (item.Name.IndexOf('/', prefix.Length) >= 0 || !item.Metadata.TryGetValue(BlobMetadata.Sha256, out var hash))
            {
                continue;
            }

            var stored = new StoredImage(item.Name, item.Properties.ContentLength ?? 0, hash, item.Properties.ContentType,
                BlobMetadata.ReadInt(item.Metadata, BlobMetadata.Width), BlobMetadata.ReadInt(item.Metadata, BlobMetadata.Height));
            if (item.Name == blobName)
            {
                return stored;
            }

            other ??= stored;
        }

        return other;
    }

    private static async Task<StoredImage?> TryGetStoredAsync(BlockBlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            if (!properties.Metadata.TryGetValue(BlobMetadata.Sha256, out var hash))
            {
                return null;
            }

            return new StoredImage(blob.Name, properties.ContentLength, hash, properties.ContentType,
                BlobMetadata.ReadInt(properties.Metadata, BlobMetadata.Width), BlobMetadata.ReadInt(properties.Metadata, BlobMetadata.Height));
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static async Task<int> FillAsync(Stream source, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < count)
        {
            var read = await source.ReadAsync(buffer.AsMemory(filled, count - filled), cancellationToken);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }
}
