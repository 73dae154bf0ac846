namespace ImageJobs.Workflow.Storage;

/// <summary>One result image to copy out of the provider's short-lived URL into blob storage.</summary>
/// <param name="SourceUrl">The provider's signed result URL.</param>
/// <param name="Container">The target container.</param>
/// <param name="BlobName">
/// The target blob name for a PNG, e.g. <c>{prefix}{jobId}/0.png</c>; an image of another type takes the extension of its
/// real type instead (<c>0.jpg</c>, see <see cref="ImageInfo.ExtensionFor"/>), and <see cref="StoredImage.BlobName"/> says which.
/// </param>
/// <param name="Metadata">Blob metadata to set (ASCII values; see <see cref="BlobMetadata"/>).</param>
/// <param name="MaxBytes">The largest image accepted.</param>
public sealed record ResultImageCopy(string SourceUrl, string Container, string BlobName, IReadOnlyDictionary<string, string> Metadata, long MaxBytes);

/// <summary>An image stored in blob storage.</summary>
/// <param name="BlobName">The blob name in its container.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of its content.</param>
/// <param name="ContentType">Its mime type.</param>
/// <param name="Width">Width in pixels, when the format is recognised.</param>
/// <param name="Height">Height in pixels, when the format is recognised.</param>
public sealed record StoredImage(string BlobName, long Bytes, string Sha256, string ContentType, int? Width, int? Height);

/// <summary>What a copy ended with: the stored image, or a per-image failure that retrying would not fix.</summary>
/// <param name="Image">The stored image on success.</param>
/// <param name="ErrorCode">A stable code on failure: <c>ResultUrlExpired</c>, <c>UnexpectedContentType</c>, <c>ImageTooLarge</c>, <c>UrlRefused</c>.</param>
/// <param name="ErrorMessage">A human-readable message on failure.</param>
/// <param name="AlreadyStored">True when the blob was already there (a retried or replayed copy), so nothing was written.</param>
public sealed record ResultImageOutcome(StoredImage? Image, string? ErrorCode = null, string? ErrorMessage = null, bool AlreadyStored = false);
