using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ImageJobs.Testing;
using ImageJobs.Workflow.Api;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Storage;
using Microsoft.AspNetCore.Http;

namespace ImageJobs.Functions.Tests;

/// <summary>
/// The app as the Functions host will see it: what the Worker SDK wrote into <c>functions.metadata</c>,
/// <c>extensions.json</c> and <c>worker.config.json</c> at build time, checked against the workflow, the jobs API and
/// infra.
/// </summary>
public sealed partial class FunctionMetadataTests
{
    [Fact]
    public void Metadata_Functions_AreTheAppsFunctionMethodsWithUniqueNames()
    {
        var methods = FunctionIndex.All.ToDictionary(f => f.Name, f => f.Method);

        Assert.Equal(methods.Keys.Order(StringComparer.Ordinal), FunctionsHostFiles.Functions.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(FunctionsHostFiles.Functions.Count, FunctionsHostFiles.Functions.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(FunctionsHostFiles.Functions, f =>
        {
            Assert.Equal("ImageJobs.Functions.dll", f.ScriptFile);
            Assert.Equal("dotnet-isolated", f.Language);
            Assert.Equal($"{methods[f.Name].DeclaringType!.FullName}.{methods[f.Name].Name}", f.EntryPoint);
            Assert.Equal("In", f.Trigger.Direction);
        });
    }

    [Fact]
    public void Metadata_DurableFunctions_AreExactlyTheWorkflowCatalog()
    {
        var orchestrators = FunctionsHostFiles.WithTrigger("orchestrationTrigger");
        var activities = FunctionsHostFiles.WithTrigger("activityTrigger");

        Assert.Equal(WorkflowCatalog.Orchestrations.Select(o => o.Name).Order(StringComparer.Ordinal), orchestrators.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(WorkflowCatalog.Activities.Select(a => a.Name).Order(StringComparer.Ordinal), activities.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.All(orchestrators.Concat(activities), f => Assert.Single(f.Bindings)); // no client, no outputs: pure workflow steps
        Assert.Equal(
            FunctionsHostFiles.Functions.Count,
            orchestrators.Count + activities.Count + FunctionsHostFiles.WithTrigger("httpTrigger").Count + 3); // + queue, upload, purge timer
    }

    [Fact]
    public void Metadata_PurgeJobHistory_IsAnHourlyTimerWithADurableClient()
    {
        var timer = Assert.Single(FunctionsHostFiles.WithTrigger("timerTrigger"));

        Assert.Equal("PurgeJobHistory", timer.Name);
        Assert.Equal(JobHistoryRetention.Schedule, timer.Trigger["schedule"]);
        Assert.NotNull(timer.Binding("durableClient"));
    }

    [Fact]
    public void Metadata_Http_EveryJobsApiRouteIsOneFunctionBehindFunctionKeysWithAClient()
    {
        var http = FunctionsHostFiles.WithTrigger("httpTrigger");

        var routes = http.Select(f =>
        {
            var methods = f.Trigger.Json["methods"]!.AsArray().Select(m => (string)m!).ToList();
            return $"{Assert.Single(methods).ToUpperInvariant()} api/{f.Trigger["route"]}";
        });

        Assert.Equal(6, http.Count);
        Assert.Equal(JobsApiRoutes().Order(StringComparer.Ordinal), routes.Order(StringComparer.Ordinal));
        Assert.Equal(
            new[] { JobsRoutes.Jobs, JobsRoutes.Job, JobsRoutes.Cancel, JobsRoutes.Event }.Order(StringComparer.Ordinal),
            http.Select(f => f.Trigger["route"]).Distinct().Order(StringComparer.Ordinal));
        Assert.All(http, f =>
        {
            Assert.Equal("Function", f.Trigger["authLevel"]);
            Assert.StartsWith(JobsRoutes.Jobs, f.Trigger["route"], StringComparison.Ordinal);
            Assert.Equal("In", f.Binding("durableClient")?.Direction);
            var output = Assert.Single(f.Bindings, b => b.Direction == "Out");
            Assert.Equal(("$return", "http"), (output.Name, output.Type));
            Assert.Equal(3, f.Bindings.Count);
        });
    }

    [Fact]
    public void Metadata_Queue_StartJobFromQueueReadsImageJobsOnTheAppStorage()
    {
        var function = Assert.Single(FunctionsHostFiles.WithTrigger("queueTrigger"));

        Assert.Equal("StartJobFromQueue", function.Name);
        Assert.Equal(ImageJobsOptions.JobsQueue, function.Trigger["queueName"]);
        Assert.Equal(StorageClients.ConnectionName, function.Trigger["connection"]);
        Assert.Equal("In", function.Binding("durableClient")?.Direction);
        Assert.Equal(2, function.Bindings.Count);
    }

    [Fact]
    public void Metadata_Blob_OnUploadWatchesUploadsThroughEventGridAsInfraSubscribes()
    {
        var function = Assert.Single(FunctionsHostFiles.WithTrigger("blobTrigger"));

        Assert.Equal("OnUpload", function.Name);
        Assert.Equal(ImageJobsOptions.UploadsContainer + "/{name}", function.Trigger["path"]);
        Assert.Equal("EventGrid", function.Trigger["source"]); // the only blob trigger source Flex Consumption runs
        Assert.Equal(StorageClients.ConnectionName, function.Trigger["connection"]);
        Assert.Equal("In", function.Binding("durableClient")?.Direction);
        Assert.Equal(2, function.Bindings.Count);
        Assert.Contains($"param uploadFunctionName string = '{function.Name}'", File.ReadAllText(RepoPaths.Combine("infra", "main.bicep")), StringComparison.Ordinal);
    }

    [Fact]
    public void ExtensionsJson_LoadsTheDurableAndStorageExtensions()
    {
        var names = FunctionsHostFiles.Read("extensions.json")["extensions"]!.AsArray().Select(e => (string)e!["name"]!).ToList();

        Assert.Contains("DurableTask", names);
        Assert.Contains("AzureStorageBlobs", names);
        Assert.Contains("AzureStorageQueues", names);
    }

    // One Durable Task stack in both hosts: the Durable extension brings its own Microsoft.DurableTask packages, and a
    // version apart from the local host's would run the same orchestrator on another worker in Azure.
    [Fact]
    public void DepsJson_MicrosoftDurableTaskPackages_OneVersionTheSameAsTheLocalHosts()
    {
        static Dictionary<string, string> DurableTaskPackages(string depsFile) =>
            FunctionsHostFiles.Read(depsFile)["libraries"]!.AsObject()
                .Select(library => library.Key.Split('/'))
                .Where(nameVersion => nameVersion[0].StartsWith("Microsoft.DurableTask.", StringComparison.Ordinal)
                    && nameVersion[0] is not "Microsoft.DurableTask.InProcessTestHost")
                .ToDictionary(nameVersion => nameVersion[0], nameVersion => nameVersion[1]);

        var app = DurableTaskPackages("ImageJobs.Functions.deps.json");
        var local = DurableTaskPackages("ImageJobs.Local.deps.json");

        Assert.Contains("Microsoft.DurableTask.Worker.Grpc", app.Keys); // brought by the Durable extension
        Assert.Single(app.Values.Distinct());
        Assert.All(local, package => Assert.Equal(package.Value, app.GetValueOrDefault(package.Key, app["Microsoft.DurableTask.Abstractions"])));
    }

    [Fact]
    public void WorkerConfig_StartsThisAssemblyAsAnIsolatedWorkerThatIndexesItself()
    {
        var description = FunctionsHostFiles.Read("worker.config.json")["description"]!;

        Assert.Equal("dotnet-isolated", (string)description["language"]!);
        Assert.Equal("ImageJobs.Functions.dll", (string)description["defaultWorkerPath"]!);
        Assert.Equal("true", (string)description["workerIndexing"]!);
    }

    /// <summary>"VERB api/route" for each handler of JobsApi, read from its XML doc (<c>&lt;c&gt;VERB /api/…&lt;/c&gt;</c>).</summary>
    private static List<string> JobsApiRoutes()
    {
        string xml = Path.ChangeExtension(typeof(JobsApi).Assembly.Location, ".xml");
        Assert.True(File.Exists(xml), $"{xml} is missing: ImageJobs.Workflow generates XML docs.");
        var members = XDocument.Load(xml).Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m);
        var handlers = typeof(JobsApi).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m.ReturnType == typeof(Task<IResult>))
            .ToList();

        return [.. handlers.Select(handler =>
        {
            var doc = members.Single(m => m.Key.StartsWith($"M:{typeof(JobsApi).FullName}.{handler.Name}(", StringComparison.Ordinal)).Value;
            var route = DocRoute().Match(doc.Element("summary")!.Element("c")?.Value ?? string.Empty);
            Assert.True(route.Success, $"JobsApi.{handler.Name}'s summary does not start with <c>VERB /api/route</c>.");
            return $"{route.Groups["verb"].Value} {route.Groups["route"].Value}";
        })];
    }

    [GeneratedRegex(@"^(?<verb>GET|POST|PUT|PATCH|DELETE) /(?<route>api/[^?\[\s]+)")]
    private static partial Regex DocRoute();
}
