using ImageJobs.Durable.Model;

namespace ImageJobs.Durable.Storage;

/// <summary>One stored instance document and the ETag to update it with.</summary>
/// <param name="Content">The document (JSON).</param>
/// <param name="ETag">The version token for optimistic concurrency.</param>
public sealed record StoredDocument(BinaryData Content, string ETag);

/// <summary>
/// The small storage interface the engine needs: one document per instance, created once, replaced only with the ETag
/// it was read with, listed with its summary. <see cref="InMemoryDurableStore"/> for unit tests,
/// <see cref="BlobDurableStore"/> (Azure Blob Storage / Azurite) for durability.
/// </summary>
public interface IDurableStore
{
    /// <summary>Creates the containers/tables the store needs, if missing.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Reads an instance document, or <see langword="null"/> if none exists.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<StoredDocument?> ReadAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Creates a document if none exists for the id. Returns the new ETag, or <see langword="null"/> if one exists.</summary>
    /// <param name="index">The summary (its id names the document).</param>
    /// <param name="content">The document.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<string?> TryCreateAsync(InstanceIndex index, BinaryData content, CancellationToken cancellationToken);

    /// <summary>Replaces a document if its ETag is still <paramref name="etag"/>. Returns the new ETag, or <see langword="null"/> on conflict or if it is gone.</summary>
    /// <param name="index">The summary (its id names the document).</param>
    /// <param name="content">The document.</param>
    /// <param name="etag">The ETag it was read with.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<string?> TryUpdateAsync(InstanceIndex index, BinaryData content, string etag, CancellationToken cancellationToken);

    /// <summary>Deletes a document if its ETag is still <paramref name="etag"/>. Returns whether it was deleted.</summary>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="etag">The ETag it was read with.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<bool> TryDeleteAsync(string instanceId, string etag, CancellationToken cancellationToken);

    /// <summary>Lists summaries ordered by instance id (ordinal), optionally only ids with a prefix, starting after an id.</summary>
    /// <param name="instanceIdPrefix">Only ids with this prefix, or all.</param>
    /// <param name="startAfter">Only ids greater than this one (ordinal), or from the start.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    IAsyncEnumerable<InstanceIndex> ListAsync(string? instanceIdPrefix, string? startAfter, CancellationToken cancellationToken);
}
