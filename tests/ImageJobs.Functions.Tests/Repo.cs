namespace ImageJobs.Functions.Tests;

/// <summary>Files of the repository the tests read (infra's names).</summary>
internal static class Repo
{
    private static readonly Lazy<string> LazyRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Functions.sln")) && Directory.Exists(Path.Combine(dir.FullName, "infra")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root above {AppContext.BaseDirectory}.");
    });

    public static string Read(params string[] parts) => File.ReadAllText(Path.Combine([LazyRoot.Value, .. parts]));
}
