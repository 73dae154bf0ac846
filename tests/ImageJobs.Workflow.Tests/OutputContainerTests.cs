using ImageJobs.Workflow.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageJobs.Workflow.Tests;

/// <summary>Where results may go: <c>results</c> and operator-listed containers, never the app's own.</summary>
public sealed class OutputContainerTests
{
    [Theory]
    [InlineData("results")]
    [InlineData("team-results")]
    public void Refusal_ResultsOrListedContainer_IsNull(string container)
    {
        var options = new ImageJobsOptions();
        options.OutputContainers.Add("team-results");
        Assert.Null(options.OutputContainerRefusal(container));
    }

    [Theory]
    [InlineData("imagejobs-state")]
    [InlineData("uploads")]
    [InlineData("imagejobshub-instances")]
    [InlineData("imagejobshub-leases")]
    [InlineData("imagejobshub-largemessages")]
    [InlineData("imagejobshub-applease")]
    [InlineData("azure-webjobs-hosts")]
    [InlineData("azure-webjobs-secrets")]
    public void Refusal_AppOwnContainer_IsRefusedEvenWhenListed(string container)
    {
        var options = new ImageJobsOptions();
        options.OutputContainers.Add(container);
        Assert.Contains("never", options.OutputContainerRefusal(container), StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_CustomStateContainer_IsRefused()
    {
        var options = new ImageJobsOptions { StateContainer = "my-state" };
        Assert.NotNull(options.OutputContainerRefusal("my-state"));
        Assert.Contains("ImageJobs:OutputContainers", new ImageJobsOptions().OutputContainerRefusal("elsewhere"), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_ListingTheUploadsContainer_FailValidationAtStart()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["ImageJobs:OutputContainers:0"] = "team-results",
            ["ImageJobs:OutputContainers:1"] = "uploads",
        }).Build();
        using var provider = new ServiceCollection().AddLogging().AddImageJobs(configuration).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ImageJobsOptions>>().Value);
        Assert.Contains("ImageJobs:OutputContainers", ex.Message, StringComparison.Ordinal);
    }
}
