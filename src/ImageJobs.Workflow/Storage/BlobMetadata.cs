using System.Globalization;
using System.Text;

namespace ImageJobs.Workflow.Storage;

/// <summary>
/// The metadata ImageJobs sets on result blobs. Blob metadata must be ASCII and at most 8 KB in all, so text values
/// (prompts) are percent-encoded (<see cref="Uri.EscapeDataString(string)"/>) and cut to <see cref="MaxTextBytes"/>;
/// the job's <c>manifest.json</c> keeps them whole.
/// </summary>
public static class BlobMetadata
{
    /// <summary>The job id.</summary>
    public const string JobId = "job_id";

    /// <summary>The DashScope model.</summary>
    public const string Model = "model";

    /// <summary>The DashScope task id.</summary>
    public const string TaskId = "task_id";

    /// <summary>The seed the image was made with, when known.</summary>
    public const string Seed = "seed";

    /// <summary>The image's index in the task's results.</summary>
    public const string Index = "index";

    /// <summary>The prompt as submitted (percent-encoded).</summary>
    public const string OrigPrompt = "orig_prompt";

    /// <summary>The prompt the provider actually used after prompt extension (percent-encoded).</summary>
    public const string ActualPrompt = "actual_prompt";

    /// <summary>Lower-case hex SHA-256 of the content; present only on complete blobs.</summary>
    public const string Sha256 = "sha256";

    /// <summary>Width in pixels.</summary>
    public const string Width = "width";

    /// <summary>Height in pixels.</summary>
    public const string Height = "height";

    /// <summary>The most bytes one encoded text value may take.</summary>
    public const int MaxTextBytes = 2048;

    /// <summary>Percent-encodes text for a metadata value, cut on a character boundary to <see cref="MaxTextBytes"/>.</summary>
    public static string EncodeText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            var piece = Uri.EscapeDataString(rune.ToString());
            if (sb.Length + piece.Length > MaxTextBytes)
            {
                break;
            }

            sb.Append(piece);
        }

        return sb.ToString();
    }

    /// <summary>Decodes a value written by <see cref="EncodeText"/>.</summary>
    public static string DecodeText(string value) => Uri.UnescapeDataString(value);

    internal static int? ReadInt(IDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
