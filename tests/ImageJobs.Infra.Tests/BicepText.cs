using System.Text.RegularExpressions;

namespace ImageJobs.Infra.Tests;

/// <summary>A Bicep declaration read from text: <c>param name type [= default]</c>.</summary>
internal sealed record BicepParam(string Name, string Type, string? Default);

/// <summary>
/// Reads Bicep as text (no compiler is available here): parameters, outputs, module paths, resource blocks and the keys
/// of object literals. Enough for structural checks; not a parser for arbitrary Bicep.
/// </summary>
internal sealed partial class BicepText
{
    private BicepText(string path, string text)
    {
        Path = path;
        Text = text;
    }

    public string Path { get; }

    public string Text { get; }

    public static BicepText Load(string path) => new(path, File.ReadAllText(path));

    public static BicepText Infra(params string[] parts) =>
        Load(System.IO.Path.Combine([Repo.Infra, .. parts]));

    /// <summary>
    /// Every app setting the deployed function app gets: the app's own settings (the <c>appSettings</c> object main.bicep
    /// passes to the api module) plus the host settings api.bicep adds (<c>var hostSettings</c>).
    /// </summary>
    public static IReadOnlySet<string> AppSettingNames() => AppSettings().Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>App setting name to its Bicep value expression (as text), see <see cref="AppSettingNames"/>.</summary>
    public static IReadOnlyDictionary<string, string> AppSettings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Infra("main.bicep").ObjectEntries(@"module api '[^']+' = \{", "appSettings:"))
        {
            settings.Add(key, value);
        }

        foreach (var (key, value) in Infra("app", "api.bicep").ObjectEntries(@"var hostSettings =", null))
        {
            settings.Add(key, value);
        }

        return settings;
    }

    public IReadOnlyList<BicepParam> Params() =>
        ParamRegex().Matches(Text)
            .Select(m => new BicepParam(
                m.Groups["name"].Value,
                m.Groups["type"].Value,
                m.Groups["default"].Success ? m.Groups["default"].Value.Trim() : null))
            .ToList();

    public IReadOnlyList<(string Name, string Type)> Outputs() =>
        OutputRegex().Matches(Text).Select(m => (m.Groups["name"].Value, m.Groups["type"].Value)).ToList();

    /// <summary>Relative paths of local modules (<c>module x 'app/y.bicep'</c>); registry modules are skipped.</summary>
    public IReadOnlyList<string> ModulePaths() =>
        ModuleRegex().Matches(Text)
            .Select(m => m.Groups["path"].Value)
            .Where(p => !p.StartsWith("br:", StringComparison.Ordinal) && !p.StartsWith("br/", StringComparison.Ordinal))
            .ToList();

    /// <summary>The text of each resource block whose type starts with <paramref name="typePrefix"/>.</summary>
    public IReadOnlyList<string> ResourceBlocks(string typePrefix)
    {
        var blocks = new List<string>();
        foreach (Match m in ResourceRegex().Matches(Text))
        {
            if (m.Groups["type"].Value.StartsWith(typePrefix, StringComparison.OrdinalIgnoreCase))
            {
                int open = Text.IndexOf('{', m.Index + m.Length - 1);
                blocks.Add(Text[m.Index..(MatchingBrace(open) + 1)]);
            }
        }

        return blocks;
    }

    /// <summary>
    /// Top-level entries <c>key: value</c> of the object literal that follows <paramref name="property"/> inside the
    /// block introduced by <paramref name="anchorPattern"/> (or directly after the anchor when no property is given).
    /// </summary>
    public IReadOnlyList<(string Key, string Value)> ObjectEntries(string anchorPattern, string? property)
    {
        Match anchor = Regex.Match(Text, anchorPattern);
        if (!anchor.Success)
        {
            throw new InvalidOperationException($"{Path}: no match for {anchorPattern}.");
        }

        int start = anchor.Index + anchor.Length;
        if (property is not null)
        {
            start = Text.IndexOf(property, start, StringComparison.Ordinal);
            if (start < 0)
            {
                throw new InvalidOperationException($"{Path}: no '{property}' after {anchorPattern}.");
            }
        }

        int open = Text.IndexOf('{', start);
        int close = MatchingBrace(open);
        string body = Text[(open + 1)..close];

        var entries = new List<(string, string)>();
        int depth = 0;
        foreach (string line in body.Split('\n'))
        {
            if (depth == 0)
            {
                Match entry = EntryRegex().Match(line);
                if (entry.Success)
                {
                    entries.Add((entry.Groups["key"].Value.Trim('\''), entry.Groups["value"].Value.Trim()));
                }
            }

            depth += Count(line, '{') + Count(line, '[') - Count(line, '}') - Count(line, ']');
        }

        return entries;
    }

    private int MatchingBrace(int open)
    {
        if (open < 0 || Text[open] != '{')
        {
            throw new InvalidOperationException($"{Path}: expected '{{' at {open}.");
        }

        int depth = 0;
        bool inString = false;
        for (int i = open; i < Text.Length; i++)
        {
            char c = Text[i];
            if (!inString && c == '/' && i + 1 < Text.Length && Text[i + 1] == '/')
            {
                int end = Text.IndexOf('\n', i);
                i = end < 0 ? Text.Length : end;
                continue;
            }

            if (c == '\'' && (i == 0 || Text[i - 1] != '\\'))
            {
                inString = !inString;
            }
            else if (!inString && c == '{')
            {
                depth++;
            }
            else if (!inString && c == '}' && --depth == 0)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"{Path}: unbalanced braces from {open}.");
    }

    private static int Count(string line, char c)
    {
        // Braces inside string literals (interpolations like '${x}') balance themselves on one line.
        int n = 0;
        foreach (char ch in line)
        {
            n += ch == c ? 1 : 0;
        }

        return n;
    }

    [GeneratedRegex(@"^param\s+(?<name>\w+)\s+(?<type>\w+)(\s*=\s*(?<default>.+))?\s*$", RegexOptions.Multiline)]
    private static partial Regex ParamRegex();

    [GeneratedRegex(@"^output\s+(?<name>\w+)\s+(?<type>\w+)", RegexOptions.Multiline)]
    private static partial Regex OutputRegex();

    [GeneratedRegex(@"^module\s+\w+\s+'(?<path>[^']+)'", RegexOptions.Multiline)]
    private static partial Regex ModuleRegex();

    [GeneratedRegex(@"^resource\s+\w+\s+'(?<type>[^'@]+)@[^']+'[^{]*\{", RegexOptions.Multiline)]
    private static partial Regex ResourceRegex();

    [GeneratedRegex(@"^\s*(?<key>'[^']+'|\w+)\s*:\s*(?<value>.*)$")]
    private static partial Regex EntryRegex();
}
