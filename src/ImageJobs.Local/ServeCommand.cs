using Microsoft.AspNetCore.Builder;

namespace ImageJobs.Local;

/// <summary><c>serve</c>: the local host until Ctrl+C.</summary>
public static class ServeCommand
{
    /// <summary>Runs the host.</summary>
    public static async Task<int> RunAsync(string urls, string root, CancellationToken cancellationToken)
    {
        var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions { Root = root, Urls = urls }, cancellationToken);
        await using var _ = environment;
        await using var __ = app;
        foreach (var note in environment.Notes)
        {
            Console.WriteLine(note);
        }

        await app.StartAsync(cancellationToken);
        Console.WriteLine($"ImageJobs is listening on {string.Join(", ", app.Urls)} (jobs API at /api/jobs). Ctrl+C to stop.");
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}
