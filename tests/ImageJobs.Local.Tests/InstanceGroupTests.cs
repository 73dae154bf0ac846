namespace ImageJobs.Local.Tests;

/// <summary>Where the instances of <c>serve --instances N</c> listen: one address, the port raised per instance.</summary>
public sealed class InstanceGroupTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7071", 1, "http://127.0.0.1:7071")]
    [InlineData("http://127.0.0.1:7071", 3, "http://127.0.0.1:7073")]
    [InlineData("http://localhost:8080/", 2, "http://localhost:8081/")]
    [InlineData("http://[::1]:7071", 2, "http://[::1]:7072")]
    [InlineData("https://0.0.0.0:65534", 2, "https://0.0.0.0:65535")]
    public void AddressOf_OneAddressWithAPort_RaisesThePortPerInstance(string urls, int instance, string expected)
    {
        Assert.Equal(expected, InstanceGroup.AddressOf(urls, instance, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("http://127.0.0.1", 2)] // no port to raise
    [InlineData("http://127.0.0.1:7071;http://127.0.0.1:7081", 2)] // two addresses
    [InlineData("http://127.0.0.1:0", 2)] // any free port: the next instances' ports are unknown
    [InlineData("http://127.0.0.1:65535", 2)] // past the last port
    [InlineData("http://127.0.0.1:7071/api", 2)] // a path
    public void AddressOf_AnythingElse_IsRefusedWithTheReason(string urls, int instance)
    {
        Assert.Null(InstanceGroup.AddressOf(urls, instance, out var error));
        Assert.Contains("--urls", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    public async Task Serve_InstancesOutOfRange_Exits2(int instances)
    {
        Assert.Equal(2, await ServeCommand.RunAsync("http://127.0.0.1:7071", instances, ".", CancellationToken.None));
    }
}
