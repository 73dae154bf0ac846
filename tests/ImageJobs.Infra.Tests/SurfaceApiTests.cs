using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;

namespace ImageJobs.Infra.Tests;

/// <summary>
/// Pins the public API of eng/FunctionsSurface to SurfaceApi.approved.txt, whose entries were each checked against the
/// packages' public source. A change to the surface fails here until the list is updated on purpose (the test writes
/// SurfaceApi.received.txt next to it), so no member slips in unreviewed.
/// </summary>
public sealed partial class SurfaceApiTests
{
    private static readonly string[] MirroredPackages =
    [
        "Microsoft.Azure.Functions.Worker 2.52.0",
        "Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore 2.1.1",
        "Microsoft.Azure.Functions.Worker.Extensions.Storage.Queues 5.5.5",
        "Microsoft.Azure.Functions.Worker.Extensions.Storage.Blobs 6.8.2",
        "Microsoft.Azure.Functions.Worker.Extensions.EventGrid 3.6.0",
        "Microsoft.Azure.Functions.Worker.Extensions.DurableTask 1.16.5",
    ];

    [Fact]
    public void SurfaceApi_PublicMembers_MatchTheApprovedList()
    {
        string approvedPath = Repo.PathOf("tests", "ImageJobs.Infra.Tests", "SurfaceApi.approved.txt");
        string actual = string.Join('\n', Describe(typeof(FunctionAttribute).Assembly)) + "\n";
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).Replace("\r\n", "\n", StringComparison.Ordinal) : "";

        if (actual != approved)
        {
            File.WriteAllText(Path.ChangeExtension(approvedPath, null).Replace(".approved", ".received", StringComparison.Ordinal) + ".txt", actual);
        }

        Assert.Equal(approved, actual);
    }

    [Fact]
    public void SurfaceSources_EachNameThePackageAndVersionTheyMirror()
    {
        var files = Directory.EnumerateFiles(Repo.PathOf("eng", "FunctionsSurface"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(files);
        Assert.All(files, file =>
        {
            string text = File.ReadAllText(file);
            Assert.StartsWith("// Mirrors ", text, StringComparison.Ordinal);
            string header = string.Concat(text.Split('\n').TakeWhile(l => l.StartsWith("//", StringComparison.Ordinal)));
            Assert.Matches(@"Source: (Azure|microsoft)/[\w.-]+", header);
            Assert.True(
                MirroredPackages.Any(p => header.Contains(p, StringComparison.Ordinal)) ||
                header.Contains("Microsoft.DurableTask.", StringComparison.Ordinal),
                $"{file}: the header names no mirrored package version");
            Assert.DoesNotMatch(@"=>(?>\s*)(?!throw null!)[^;\n]*;", BodiesOnly(text));
        });
    }

    // Expression bodies of members: declarations only, so every one must be "throw null!".
    private static string BodiesOnly(string text) =>
        string.Join('\n', text.Split('\n').Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));

    private static IEnumerable<string> Describe(Assembly assembly)
    {
        const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
            BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            yield return $"{Kind(type)} {type.FullName}{BaseList(type)}{Usage(type)}";
            var members = type.GetMembers(Declared)
                .Where(m => m switch
                {
                    MethodBase method => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly,
                    FieldInfo field => field.IsPublic || field.IsFamily,
                    PropertyInfo or EventInfo => true,
                    _ => false,
                })
                .Where(m => m is not PropertyInfo property || property.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily))
                .Select(m => "  " + Normalize(m.ToString() ?? m.Name))
                .Order(StringComparer.Ordinal);
            foreach (string member in members)
            {
                yield return member;
            }
        }
    }

    private static string Kind(Type type) =>
        type.IsEnum ? "enum" :
        type.IsValueType ? "struct" :
        type.IsInterface ? "interface" :
        typeof(Delegate).IsAssignableFrom(type) ? "delegate" :
        (type.IsAbstract && type.IsSealed) ? "static class" :
        type.IsAbstract ? "abstract class" :
        type.IsSealed ? "sealed class" : "class";

    private static string BaseList(Type type)
    {
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) &&
            baseType != typeof(Enum) && baseType != typeof(MulticastDelegate))
        {
            bases.Add(baseType.FullName ?? baseType.Name);
        }

        bases.AddRange(type.GetInterfaces().Select(i => Normalize(i.ToString())).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? "" : " : " + string.Join(", ", bases);
    }

    private static string Usage(Type type) =>
        type.GetCustomAttribute<AttributeUsageAttribute>(inherit: false) is { } usage ? $" [AttributeUsage({usage.ValidOn})]" : "";

    // Assembly-qualified noise (versions, tokens) differs between machines; names do not.
    private static string Normalize(string text) => AssemblyQualifier().Replace(text, "");

    [GeneratedRegex(@", [\w.]+, Version=[^\]]+")]
    private static partial Regex AssemblyQualifier();
}
