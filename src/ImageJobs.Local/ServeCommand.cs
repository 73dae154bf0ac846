using ImageJobs.Workflow.Api;
using Microsoft.AspNetCore.Builder;

namespace ImageJobs.Local;

/// <summary><c>serve</c>: the local host until Ctrl+C; with <c>--instances N</c>, N of them on one task hub (<see cref="InstanceGroup"/>).</summary>
public static class ServeCommand
{
    /// <summary>The start of the line an instance prints once it listens.</summary>
    public const string ListeningLine = "ImageJobs is listening on ";

    /// <summary>Runs one host.</summary>
    public static Task<int> RunAsync(string urls, string root, CancellationToken cancellationToken) => RunAsync(urls, 1, root, cancellationToken);

    /// <summary>Runs <paramref name="instances"/> hosts on one task hub: this process and <c>instances - 1</c> children.</summary>
    public static async Task<int> RunAsync(string urls, int instances, string root, CancellationToken cancellationToken)
    {
        if (instances is < 1 or > InstanceGroup.MaxInstances)
        {
            await Console.Error.WriteLineAsync($"--instances must be from 1 to {InstanceGroup.MaxInstances} (got {instances}).");
            return 2;
        }

        // SIGINT and SIGTERM stop serve in order and it exits 0, also while it starts.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = ProcessSignals.CancelOnStopSignals(stop);
        try
        {
            return instances > 1
                ? await InstanceGroup.RunAsync(urls, instances, root, stop.Token)
                : await RunOneAsync(urls, root, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
    }

    private static async Task<int> RunOneAsync(string urls, string root, CancellationToken cancellationToken)
    {
        // An instance started by `serve --instances N` stops when the process that started it is gone (even by SIGKILL),
        // and leaves the notes about storage and DashScope to it.
        var instance = Environment.GetEnvironmentVariable(InstanceGroup.InstanceVariable);
        using var orphaned = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = WatchParentAsync(orphaned);

        var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions { Root = root, Urls = urls }, orphaned.Token);
        await using var _ = environment;
        await using var __ = app;
        if (instance is null)
        {
            foreach (var note in environment.Notes)
            {
                Console.WriteLine(note);
            }
        }

        await app.StartAsync(orphaned.Token);
        Console.WriteLine($"{ListeningLine}{string.Join(", ", app.Urls)} (jobs API at {JobsRoutes.JobsPath}). Ctrl+C to stop.");
        await app.WaitForShutdownAsync(orphaned.Token);
        await orphaned.CancelAsync();
        await watch;
        return 0;
    }

    private static async Task WatchParentAsync(CancellationTokenSource orphaned)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(InstanceGroup.ParentProcessVariable), out var parent)
            || ProcessSignals.ParentProcessId() is not { } started || started != parent)
        {
            return; // not a child of an instance group (or not on Linux/macOS, where the group stops its children itself)
        }

        try
        {
            while (!orphaned.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), orphaned.Token);
                if (ProcessSignals.ParentProcessId() != parent)
                {
                    Console.WriteLine($"The instance that started this one (pid {parent}) is gone; stopping.");
                    await orphaned.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
