using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local;

/// <summary>
/// The local host's function key, the same across restarts: <see cref="LocalApp.FunctionKeySetting"/> when it is set,
/// else a key generated once and kept in <see cref="FolderName"/>/<see cref="FileName"/> under the app root, readable by
/// its owner only. One key for every instance of a <c>serve --instances N</c> group.
/// </summary>
public static class LocalFunctionKey
{
    /// <summary>The folder under the app root where the local host keeps its own files (git-ignored).</summary>
    public const string FolderName = ".imagejobs";

    /// <summary>The file in <see cref="FolderName"/> that holds the kept key.</summary>
    public const string FileName = "function-key";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Where the key is kept for the app at <paramref name="root"/>.</summary>
    public static string PathFor(string root) => Path.Combine(Path.GetFullPath(root), FolderName, FileName);

    /// <summary>
    /// The configured key, else the one kept for <paramref name="root"/> (made on first use); <paramref name="keptIn"/> is
    /// the file it came from, <see langword="null"/> when it was configured.
    /// </summary>
    public static string Get(IConfiguration configuration, string root, out string? keptIn)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[LocalApp.FunctionKeySetting] is { Length: > 0 } configured)
        {
            keptIn = null;
            return configured;
        }

        keptIn = PathFor(root);
        return ReadOrCreate(keptIn);
    }

    private static string ReadOrCreate(string path)
    {
        if (Read(path) is { } kept)
        {
            return kept;
        }

        var empty = File.Exists(path);

        var folder = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Written owner-only beside it and moved into place without overwriting: two hosts starting at once on one root
        // end up with the same key, and none reads half a file.
        var staged = $"{path}.{Guid.NewGuid():N}";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var writer = new StreamWriter(staged, System.Text.Encoding.ASCII, options))
        {
            writer.Write(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
        }

        try
        {
            File.Move(staged, path, overwrite: empty);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(staged); // another host kept one first
        }

        return Read(path) ?? throw new InvalidOperationException($"Could not keep a function key in {path}.");
    }

    // The kept key, tightened to owner-only if it was made readable to others; null when there is none (or it is empty).
    private static string? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerOnly) != 0)
        {
            File.SetUnixFileMode(path, OwnerOnly);
        }

        return File.ReadAllText(path).Trim() is { Length: > 0 } key ? key : null;
    }
}
