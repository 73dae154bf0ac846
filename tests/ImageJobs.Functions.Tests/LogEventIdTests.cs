using System.Reflection;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Functions.Triggers;
using ImageJobs.Local;
using ImageJobs.Workflow.Api;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Functions.Tests;

/// <summary>
/// Every <c>[LoggerMessage]</c> of the app's assemblies, read by reflection: each assembly logs in its own planned range
/// of event ids (the comment at the top of each <c>Logs.cs</c>), from its one log class, and no id is defined twice.
/// It lives here because this is the test project that loads all five assemblies (the Functions app, and the local host
/// through the shared test fixtures).
/// </summary>
public sealed class LogEventIdTests
{
    private static readonly (Assembly Assembly, int First, int Last)[] Ranges =
    [
        (typeof(DashScopeClient).Assembly, 1000, 1999),
        (typeof(JobsApi).Assembly, 2000, 2999),
        (typeof(LocalApp).Assembly, 3000, 3999),
        (typeof(JobsHttpFunctions).Assembly, 4000, 4999),
        (typeof(DashScopeEmulator).Assembly, 5000, 5999),
    ];

    // The log classes: each assembly's Log, and the workflow's HostLog (the events both hosts log).
    private static readonly string[] LogClasses = ["Log", "HostLog"];

    [Fact]
    public void Ranges_EveryAppAssembly_HasOneRangeAndTheRangesDoNotOverlap()
    {
        var appAssemblies = Directory.GetFiles(AppContext.BaseDirectory, "ImageJobs.*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => name is not ("ImageJobs.Testing" or "ImageJobs.Functions.Tests"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(appAssemblies, Ranges.Select(r => r.Assembly.GetName().Name).Order(StringComparer.Ordinal));
        var ordered = Ranges.OrderBy(r => r.First).ToList();
        Assert.All(ordered.Zip(ordered.Skip(1)), pair => Assert.True(pair.First.Last < pair.Second.First, $"{pair.First.Assembly.GetName().Name} and {pair.Second.Assembly.GetName().Name} overlap."));
    }

    [Fact]
    public void EventIds_EveryAssembly_WithinItsOwnRange()
    {
        Assert.All(Ranges, range =>
        {
            var messages = Messages(range.Assembly);
            Assert.NotEmpty(messages);
            Assert.All(messages, m => Assert.True(
                m.EventId >= range.First && m.EventId <= range.Last,
                $"{Name(m.Method)} has event id {m.EventId}, outside {range.Assembly.GetName().Name}'s {range.First}-{range.Last}."));
        });
    }

    [Fact]
    public void EventIds_AllAssemblies_NoneDefinedTwice()
    {
        var twice = Ranges.SelectMany(r => Messages(r.Assembly))
            .GroupBy(m => m.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => Name(m.Method)))}")
            .ToList();

        Assert.Empty(twice);
    }

    [Fact]
    public void LogMessages_EveryAssembly_DefinedInItsLogClass()
    {
        Assert.All(Ranges.SelectMany(r => Messages(r.Assembly)), m =>
            Assert.True(LogClasses.Contains(m.Method.DeclaringType!.Name), $"{Name(m.Method)} is not in the assembly's Logs.cs."));
    }

    private static List<(MethodInfo Method, int EventId)> Messages(Assembly assembly) =>
    [
        .. assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (m.Method, m.Attribute!.EventId)),
    ];

    private static string Name(MethodInfo method) => $"{method.DeclaringType!.FullName}.{method.Name}";
}
