using Microsoft.DurableTask;

namespace ImageJobs.Local;

/// <summary>What the local app runs.</summary>
public sealed record LocalAppOptions
{
    /// <summary>The URLs to listen on; <see langword="null"/> for no HTTP (the <c>generate</c> command).</summary>
    public string? Urls { get; init; } = "http://127.0.0.1:7071";

    /// <summary>The folder with <c>host.json</c> and <c>local.settings.json</c>.</summary>
    public required string Root { get; init; }

    /// <summary>Whether the queue trigger and the upload scanner run.</summary>
    public bool Triggers { get; init; } = true;

    /// <summary>
    /// Whether an Azurite this host starts keeps its data in memory only (the one-shot <c>generate</c> command), rather
    /// than in <c>.azurite/</c> under <see cref="Root"/>, where jobs outlive the process (<c>serve</c>).
    /// </summary>
    public bool InMemoryStorage { get; init; }

    /// <summary>Log only warnings and errors (the <c>generate</c> command prints its own progress).</summary>
    public bool Quiet { get; init; }

    /// <summary>Extra configuration, applied last (tests).</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>Extra logging setup, e.g. a provider that captures logs (tests).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Extra orchestrators or activities, e.g. an orchestration that waits for a job's completion event (tests).</summary>
    public Action<DurableTaskRegistry>? ConfigureTasks { get; init; }
}
