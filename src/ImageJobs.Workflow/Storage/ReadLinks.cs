using Azure.Storage.Blobs;
using Azure.Storage.Sas;

namespace ImageJobs.Workflow.Storage;

/// <summary>
/// Short-lived read-only SAS URLs for blobs: signed with the account key when the client has one (connection strings,
/// Azurite), else with a user delegation key (managed identity; needs Storage Blob Data Owner/Contributor or Delegator).
/// </summary>
public static class ReadLinks
{
    /// <summary>A read SAS URL for <paramref name="blob"/> valid from 5 minutes ago (clock skew) for <paramref name="lifetime"/>.</summary>
    public static async Task<Uri> CreateAsync(BlobServiceClient service, BlobClient blob, TimeProvider time, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(time);
        var startsOn = time.GetUtcNow().AddMinutes(-5);
        var expiresOn = time.GetUtcNow() + lifetime;
        if (blob.CanGenerateSasUri)
        {
            return blob.GenerateSasUri(BlobSasPermissions.Read, expiresOn);
        }

        var key = await service.GetUserDelegationKeyAsync(startsOn, expiresOn, cancellationToken);
        var sas = new BlobSasBuilder(BlobSasPermissions.Read, expiresOn)
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            StartsOn = startsOn,
        };
        return new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key.Value, service.AccountName) }.ToUri();
    }
}
