using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local.Tests;

/// <summary>The local host's function key: configured, or generated once and kept owner-only under the app root.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LocalFunctionKeyTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("imagejobs-key-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Get_NoneConfigured_KeepsOneKeyOwnerOnlyAndReturnsItAgain()
    {
        var first = LocalFunctionKey.Get(Configuration(null), _root.FullName, out var keptIn);
        var again = LocalFunctionKey.Get(Configuration(null), _root.FullName, out _);

        Assert.Equal(LocalFunctionKey.PathFor(_root.FullName), keptIn);
        Assert.Equal(48, first.Length);
        Assert.Equal(first, again);
        Assert.Equal(first, File.ReadAllText(keptIn!));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(keptIn!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(keptIn)!));
    }

    [Fact]
    public void Get_Configured_ReturnsItAndKeepsNothing()
    {
        var key = LocalFunctionKey.Get(Configuration("configured-key"), _root.FullName, out var keptIn);

        Assert.Equal("configured-key", key);
        Assert.Null(keptIn);
        Assert.False(Directory.Exists(Path.Combine(_root.FullName, LocalFunctionKey.FolderName)));
    }

    [Fact]
    public void Get_KeptFileReadableByOthers_MakesItOwnerOnly()
    {
        var key = LocalFunctionKey.Get(Configuration(null), _root.FullName, out var keptIn);
        File.SetUnixFileMode(keptIn!, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        Assert.Equal(key, LocalFunctionKey.Get(Configuration(null), _root.FullName, out _));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(keptIn!));
    }

    [Fact]
    public async Task Get_ManyHostsStartingAtOnce_AllTakeTheSameKey()
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => LocalFunctionKey.Get(Configuration(null), _root.FullName, out _))));

        Assert.Single(keys.Distinct());
        Assert.Equal(keys[0], File.ReadAllText(LocalFunctionKey.PathFor(_root.FullName)));
        Assert.Single(Directory.GetFiles(Path.Combine(_root.FullName, LocalFunctionKey.FolderName)));
    }

    private static IConfiguration Configuration(string? key) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [LocalApp.FunctionKeySetting] = key }).Build();
}
