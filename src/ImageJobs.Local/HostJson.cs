using System.Globalization;
using System.Text.Json;

namespace ImageJobs.Local;

/// <summary>
/// The app's <c>host.json</c>, read once: its values flattened into <c>:</c>-separated keys as the Functions host does
/// before binding (<c>extensions:queues:batchSize</c>), so <c>"4"</c> and <c>4</c> read the same. Every part of the
/// local host that follows a <c>host.json</c> setting (the task hub, the queue trigger) reads it from here.
/// </summary>
public sealed class HostJson
{
    /// <summary>
    /// The configuration prefix whose keys override <c>host.json</c> values, as app settings do in Functions
    /// (<c>AzureFunctionsJobHost__extensions__queues__batchSize</c>).
    /// </summary>
    public const string OverridePrefix = "AzureFunctionsJobHost";

    private readonly Dictionary<string, string?> _values;

    private HostJson(string path, Dictionary<string, string?> values)
    {
        Path = path;
        _values = values;
    }

    /// <summary>The file it was read from.</summary>
    public string Path { get; }

    /// <summary>The value at <paramref name="key"/> (<c>:</c>-separated, case-insensitive), or <see langword="null"/>.</summary>
    public string? this[string key] => _values.TryGetValue(key, out var value) ? value : null;

    /// <summary>
    /// The value at <paramref name="key"/>, with an <see cref="OverridePrefix"/> key of <paramref name="configuration"/>
    /// winning over the file's.
    /// </summary>
    public string? Get(string key, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration[OverridePrefix + ":" + key] ?? this[key];
    }

    /// <summary>Reads <paramref name="path"/>; comments and trailing commas are allowed.</summary>
    /// <exception cref="FileNotFoundException"><paramref name="path"/> does not exist.</exception>
    /// <exception cref="InvalidOperationException">The file is not valid JSON or not a JSON object.</exception>
    public static HostJson Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"host.json not found at '{path}'.", path);
        }

        var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path), options);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"'{path}' is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException($"'{path}' must hold a JSON object.");
            }

            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            Flatten(document.RootElement, null, values);
            return new HostJson(path, values);
        }
    }

    private static void Flatten(JsonElement element, string? path, Dictionary<string, string?> values)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, path is null ? property.Name : path + ":" + property.Name, values);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, path + ":" + index.ToString(CultureInfo.InvariantCulture), values);
                    index++;
                }

                break;
            case JsonValueKind.String:
                values[path!] = element.GetString();
                break;
            case JsonValueKind.Null:
                values.Remove(path!);
                break;
            default:
                values[path!] = element.GetRawText();
                break;
        }
    }
}
