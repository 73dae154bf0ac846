using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ImageJobs.Durable.Model;
using ImageJobs.Workflow.Durable;

namespace ImageJobs.Durable.Storage;

/// <summary>
/// Instances as block blobs in the container <c>{hub}-instances</c> (one JSON document per instance, named by its id),
/// with the summary in blob metadata so listing and queries need no downloads. Creates use <c>If-None-Match: *</c>,
/// updates and deletes <c>If-Match: {etag}</c>, so concurrent engines never overwrite each other's changes.
/// </summary>
public sealed class BlobDurableStore : IDurableStore
{
    private const int ListPageSize = 1000;
    private readonly BlobContainerClient _container;

    /// <summary>Creates the store for a task hub.</summary>
    /// <param name="connectionString">The storage connection string (Azurite or Azure).</param>
    /// <param name="hubName">The task hub name.</param>
    public BlobDurableStore(string connectionString, string hubName)
        : this(new BlobContainerClient(connectionString, ContainerName(hubName), new BlobClientOptions
        {
            Retry = { MaxRetries = 5, Delay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2), NetworkTimeout = TimeSpan.FromSeconds(30) },
        }))
    {
    }

    /// <summary>Creates the store over an existing container client.</summary>
    /// <param name="container">The container.</param>
    public BlobDurableStore(BlobContainerClient container) => _container = container ?? throw new ArgumentNullException(nameof(container));

    /// <summary>The container holding the hub's instances.</summary>
    public string ContainerNameInUse => _container.Name;

    /// <summary>The container name of a task hub: <c>{hub in lower case}-instances</c>.</summary>
    /// <param name="hubName">The task hub name.</param>
    public static string ContainerName(string hubName)
    {
        ArgumentException.ThrowIfNullOrEmpty(hubName);
#pragma warning disable CA1308 // Container names must be lower case.
        return hubName.ToLowerInvariant() + "-instances";
#pragma warning restore CA1308
    }

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken) =>
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async Task<StoredDocument?> ReadAsync(string instanceId, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _container.GetBlobClient(instanceId).DownloadContentAsync(cancellationToken);
            return new StoredDocument(response.Value.Content, response.Value.Details.ETag.ToString());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task<string?> TryCreateAsync(InstanceIndex index, BinaryData content, CancellationToken cancellationToken) =>
        UploadAsync(index, content, new BlobRequestConditions { IfNoneMatch = ETag.All }, cancellationToken);

    /// <inheritdoc />
    public Task<string?> TryUpdateAsync(InstanceIndex index, BinaryData content, string etag, CancellationToken cancellationToken) =>
        UploadAsync(index, content, new BlobRequestConditions { IfMatch = new ETag(etag) }, cancellationToken);

    private async Task<string?> UploadAsync(InstanceIndex index, BinaryData content, BlobRequestConditions conditions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(index);
        try
        {
            var response = await _container.GetBlobClient(index.InstanceId).UploadAsync(content, new BlobUploadOptions
            {
                Conditions = conditions,
                Metadata = ToMetadata(index),
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            }, cancellationToken);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<bool> TryDeleteAsync(string instanceId, string etag, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(instanceId).DeleteAsync(
                DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = new ETag(etag) }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<InstanceIndex> ListAsync(
        string? instanceIdPrefix, string? startAfter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Pages of 1000 rather than 5000: a listing is a long request for the storage service, and smaller pages keep
        // it from stalling the engine's other requests (noticeable on Azurite).
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = instanceIdPrefix }, cancellationToken)
            .AsPages(default, ListPageSize).SelectMany(page => page.Values.ToAsyncEnumerable()))
        {
            if (startAfter is not null && string.CompareOrdinal(item.Name, startAfter) <= 0)
            {
                continue;
            }

            if (FromMetadata(item.Name, item.Metadata) is { } index)
            {
                yield return index;
            }
        }
    }

    private static Dictionary<string, string> ToMetadata(InstanceIndex index)
    {
        var metadata = new Dictionary<string, string>
        {
            ["name"] = Uri.EscapeDataString(index.Name),
            ["status"] = index.Status.ToString(),
            ["created"] = index.CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture),
            ["updated"] = index.LastUpdatedAt.Ticks.ToString(CultureInfo.InvariantCulture),
            ["work"] = index.HasWork ? "1" : "0",
        };
        if (index.NextWakeUp is { } wake)
        {
            metadata["wake"] = wake.Ticks.ToString(CultureInfo.InvariantCulture);
        }

        return metadata;
    }

    private static InstanceIndex? FromMetadata(string instanceId, IDictionary<string, string>? metadata)
    {
        if (metadata is null
            || !metadata.TryGetValue("name", out var name)
            || !metadata.TryGetValue("status", out var status) || !Enum.TryParse<OrchestrationStatus>(status, out var parsedStatus)
            || !metadata.TryGetValue("created", out var created) || !metadata.TryGetValue("updated", out var updated))
        {
            return null;
        }

        DateTime? wake = metadata.TryGetValue("wake", out var w) ? new DateTime(long.Parse(w, CultureInfo.InvariantCulture), DateTimeKind.Utc) : null;
        return new InstanceIndex(
            instanceId,
            Uri.UnescapeDataString(name),
            parsedStatus,
            new DateTime(long.Parse(created, CultureInfo.InvariantCulture), DateTimeKind.Utc),
            new DateTime(long.Parse(updated, CultureInfo.InvariantCulture), DateTimeKind.Utc),
            metadata.TryGetValue("work", out var work) && work == "1",
            wake);
    }
}
