using ImageJobs.Local;
using Xunit;

namespace ImageJobs.Testing;

/// <summary>
/// A private Azurite for a test class or collection: <see cref="AzuriteProcess"/> (the same one the local host starts),
/// from <c>node_modules/.bin/azurite</c>, in memory, on free loopback ports; stopped on dispose. Nothing depends on a
/// server started by hand.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The well-known development account.</summary>
    public const string AccountName = AzuriteProcess.AccountName;

    /// <summary>The well-known development account key.</summary>
    public const string AccountKey = AzuriteProcess.AccountKey;

    private AzuriteProcess? _azurite;

    private AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite is not started.");

    /// <summary>The blob service port.</summary>
    public int BlobPort => Azurite.BlobPort;

    /// <summary>The queue service port.</summary>
    public int QueuePort => Azurite.QueuePort;

    /// <summary>The table service port.</summary>
    public int TablePort => Azurite.TablePort;

    /// <summary>A full connection string for this Azurite instance.</summary>
    public string ConnectionString => Azurite.ConnectionString;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var executable = AzuriteProcess.Find(RepoPaths.Root)
            ?? throw new InvalidOperationException($"Azurite is not installed under {RepoPaths.Root}. Run 'npm ci' at the repository root.");
        _azurite = await AzuriteProcess.StartAsync(executable);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            _azurite = null;
        }
    }
}
