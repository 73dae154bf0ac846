using ImageJobs.Functions.Hosting;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ImageJobs.Functions.Tests;

/// <summary>The app's host as Program.cs builds it (not started: no Functions host is there to connect to).</summary>
internal static class AppHost
{
    /// <summary>Builds it with development storage and a test key, then <paramref name="settings"/> on top.</summary>
    public static IHost Build(params (string Key, string Value)[] settings)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageClients.ConnectionName] = "UseDevelopmentStorage=true",
            ["DASHSCOPE_API_KEY"] = "sk-test",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        builder.AddImageJobsFunctions();
        return builder.Build();
    }
}
