using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Workflow.Storage;

/// <summary>
/// Storage clients from the connection the Functions host uses, <c>AzureWebJobsStorage</c>: a connection string
/// (<c>UseDevelopmentStorage=true</c> means Azurite on its default ports), or identity-based settings
/// (<c>AzureWebJobsStorage__accountName</c>, or <c>__blobServiceUri</c>/<c>__queueServiceUri</c>, with
/// <c>__credential=managedidentity</c> and <c>__clientId</c>).
/// </summary>
public static class StorageClients
{
    /// <summary>The connection name.</summary>
    public const string ConnectionName = "AzureWebJobsStorage";

    /// <summary>Azurite's well-known development account (public, documented by Microsoft; not a secret).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development account key.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Azurite's well-known development connection string (default ports).</summary>
    public static readonly string DevelopmentConnectionString = DevelopmentConnectionStringFor(10000, 10001, 10002);

    /// <summary>The development account's connection string for an Azurite on the given loopback ports.</summary>
    public static string DevelopmentConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};AccountKey={DevelopmentAccountKey};"
            + $"BlobEndpoint=http://127.0.0.1:{blobPort}/{DevelopmentAccountName};"
            + $"QueueEndpoint=http://127.0.0.1:{queuePort}/{DevelopmentAccountName};"
            + $"TableEndpoint=http://127.0.0.1:{tablePort}/{DevelopmentAccountName};");

    /// <summary>The connection string, with <c>UseDevelopmentStorage=true</c> expanded; null when identity-based.</summary>
    public static string? ConnectionString(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration[ConnectionName];
        return string.IsNullOrWhiteSpace(value) ? null : ExpandDevelopmentStorage(value);
    }

    /// <summary>Expands <c>UseDevelopmentStorage=true</c> to <see cref="DevelopmentConnectionString"/>; other values are returned as they are.</summary>
    public static string? ExpandDevelopmentStorage(string? connectionString) =>
        connectionString is not null && connectionString.Replace(" ", string.Empty, StringComparison.Ordinal)
            .Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase)
            ? DevelopmentConnectionString
            : connectionString;

    /// <summary>A blob service client for the connection.</summary>
    public static BlobServiceClient CreateBlobServiceClient(IConfiguration configuration) =>
        ConnectionString(configuration) is { } connection
            ? new BlobServiceClient(connection)
            : new BlobServiceClient(ServiceUri(configuration, "blob"), Credential(configuration));

    /// <summary>A queue service client for the connection.</summary>
    public static QueueServiceClient CreateQueueServiceClient(IConfiguration configuration) =>
        ConnectionString(configuration) is { } connection
            ? new QueueServiceClient(connection)
            : new QueueServiceClient(ServiceUri(configuration, "queue"), Credential(configuration));

    private static Uri ServiceUri(IConfiguration configuration, string service)
    {
        var section = configuration.GetSection(ConnectionName);
        if (section[$"{service}ServiceUri"] is { Length: > 0 } uri)
        {
            return new Uri(uri);
        }

        if (section["accountName"] is { Length: > 0 } account)
        {
            return new Uri($"https://{account}.{service}.core.windows.net");
        }

        throw new InvalidOperationException(
            $"{ConnectionName} is not configured: set a connection string, UseDevelopmentStorage=true, or {ConnectionName}__accountName / {ConnectionName}__{service}ServiceUri for managed identity.");
    }

    private static TokenCredential Credential(IConfiguration configuration)
    {
        var section = configuration.GetSection(ConnectionName);
        return string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(section["clientId"]))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = section["clientId"] });
    }
}
