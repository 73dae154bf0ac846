using System.Text.Json.Nodes;

namespace ImageJobs.Functions.Tests;

/// <summary>One binding of a function, as <c>functions.metadata</c> declares it to the Functions host.</summary>
/// <param name="Name">The parameter name (<c>$return</c> for an output bound to the return value).</param>
/// <param name="Type">The binding type (<c>httpTrigger</c>, <c>queueTrigger</c>, <c>durableClient</c>, …).</param>
/// <param name="Direction"><c>In</c> or <c>Out</c>.</param>
/// <param name="Json">The whole binding, for its type-specific fields (route, queueName, path, source, connection…).</param>
internal sealed record HostBinding(string Name, string Type, string Direction, JsonObject Json)
{
    public bool IsTrigger => Type.EndsWith("Trigger", StringComparison.Ordinal);

    public string? this[string field] => Json[field]?.GetValue<string>();
}

/// <summary>One function of <c>functions.metadata</c>.</summary>
internal sealed record HostFunction(string Name, string ScriptFile, string EntryPoint, string Language, IReadOnlyList<HostBinding> Bindings)
{
    public HostBinding Trigger => Assert.Single(Bindings, b => b.IsTrigger);

    public HostBinding? Binding(string type) => Bindings.SingleOrDefault(b => b.Type == type);

    public override string ToString() => $"{Name} ({EntryPoint})";
}

/// <summary>
/// The files the Functions host reads from the built app: <c>functions.metadata</c> (every function and its bindings),
/// <c>extensions.json</c> (the WebJobs extensions it loads) and <c>worker.config.json</c> (how it starts the worker), as
/// the Worker SDK wrote them into the app's output; the project reference copies them next to the tests with the app.
/// </summary>
internal static class FunctionsHostFiles
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, file);

    public static JsonNode Read(string file) =>
        JsonNode.Parse(File.ReadAllText(PathOf(file))) ?? throw new InvalidOperationException($"{file} is empty.");

    public static IReadOnlyList<HostFunction> Functions { get; } =
        [.. Read("functions.metadata").AsArray().Select(f => f!.AsObject()).Select(f => new HostFunction(
            (string)f["name"]!,
            (string)f["scriptFile"]!,
            (string)f["entryPoint"]!,
            (string)f["language"]!,
            [.. f["bindings"]!.AsArray().Select(b => b!.AsObject()).Select(b =>
                new HostBinding((string)b["name"]!, (string)b["type"]!, (string)b["direction"]!, b))]))];

    public static HostFunction Function(string name) => Assert.Single(Functions, f => f.Name == name);

    public static IReadOnlyList<HostFunction> WithTrigger(string type) => [.. Functions.Where(f => f.Trigger.Type == type)];
}
