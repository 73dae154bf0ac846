using ImageJobs.Testing;

namespace ImageJobs.Durable.Tests;

/// <summary>One private Azurite (an xunit collection fixture) for every test that needs blob storage.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteGroup : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
