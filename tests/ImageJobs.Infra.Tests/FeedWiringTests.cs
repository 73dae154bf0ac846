using System.Diagnostics;
using System.Text.Json;

namespace ImageJobs.Infra.Tests;

/// <summary>
/// The feed probe's cached answer (eng/FeedProbe.props) decides the storage wiring (eng/AzureStorage.props) and the
/// Functions mode (eng/FunctionsSurface.targets) the same way in every project. Evaluates the real project files with
/// <c>dotnet msbuild -getProperty</c> against a cache file written here: evaluation only, so neither the probe nor a
/// restore runs, and the repository's own cache is not touched.
/// </summary>
public sealed class FeedWiringTests : IDisposable
{
    private static readonly string Functions = Repo.PathOf("src", "ImageJobs.Functions", "ImageJobs.Functions.csproj");
    private static readonly string Workflow = Repo.PathOf("src", "ImageJobs.Workflow", "ImageJobs.Workflow.csproj");

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("imagejobs-feed-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void FullFeed_FunctionsUsesPackages_AndEveryProjectUsesPackageReferenceWiring()
    {
        string cache = Cache("Full");

        Assert.Equal(("Packages", "PackageReference"), Modes(Functions, cache));
        Assert.Equal(("", "PackageReference"), Modes(Workflow, cache));
    }

    [Fact]
    public void MirrorFeed_FunctionsUsesTheSurface_AndEveryProjectUsesMirrorWiring()
    {
        string cache = Cache("Mirror");

        Assert.Equal(("Surface", "Mirror"), Modes(Functions, cache));
        Assert.Equal(("", "Mirror"), Modes(Workflow, cache));
    }

    [Fact]
    public void FullFeed_ExplicitMirrorWiring_WinsAndFunctionsFollowsItToTheSurface()
    {
        string cache = Cache("Full");

        Assert.Equal(("Surface", "Mirror"), Modes(Functions, cache, "-p:ImageJobsStorageWiring=Mirror"));
        Assert.Equal(("", "Mirror"), Modes(Workflow, cache, "-p:ImageJobsStorageWiring=Mirror"));
    }

    [Fact]
    public void MirrorFeed_ExplicitPackagesMode_SwitchesAutoWiringInEveryProject()
    {
        Assert.Equal(("", "PackageReference"), Modes(Workflow, Cache("Mirror"), "-p:ImageJobsFunctionsMode=Packages"));
    }

    [Fact]
    public void NoUsableAnswer_MeansMirrorWiring_AndFunctionsUnresolvedUntilProbed()
    {
        string garbled = Cache("Ful");
        string stale = Cache("Full");
        File.SetLastWriteTime(stale, File.GetLastWriteTime(Repo.PathOf("Directory.Packages.props")).AddMinutes(-1));

        Assert.Equal(("", "Mirror"), Modes(Functions, garbled));
        Assert.Equal(("", "Mirror"), Modes(Functions, stale));
    }

    private string Cache(string answer)
    {
        string path = Path.Combine(_dir.FullName, $"{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, answer + "\n");
        return path;
    }

    /// <summary>(ImageJobsFunctionsResolvedMode, ImageJobsStorageResolvedWiring) of one project, as MSBuild evaluates it.</summary>
    private static (string FunctionsMode, string StorageWiring) Modes(string project, string cache, params string[] properties)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["MSBUILDDISABLENODEREUSE"] = "1" },
        };
        foreach (string argument in (string[])["msbuild", project, "-nologo", "-nodeReuse:false",
                     "-getProperty:ImageJobsFunctionsResolvedMode", "-getProperty:ImageJobsStorageResolvedWiring",
                     $"-p:ImageJobsFeedProbeCache={cache}", .. properties])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "dotnet msbuild did not finish");
        Assert.True(process.ExitCode == 0, $"dotnet msbuild exited with {process.ExitCode}:\n{output}\n{error.Result}");

        JsonElement values = JsonDocument.Parse(output).RootElement.GetProperty("Properties");
        return (values.GetProperty("ImageJobsFunctionsResolvedMode").GetString()!,
            values.GetProperty("ImageJobsStorageResolvedWiring").GetString()!);
    }
}
