using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Azure.Storage.Blobs;
using Azure.Storage.Queues.Models;
using ImageJobs.Functions.Triggers;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Http;
using ImageJobs.Workflow.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Tests;

/// <summary>
/// The Functions app is wired to the workflow, the jobs API and infra by name only; these tests hold the names together.
/// </summary>
public sealed partial class FunctionWiringTests
{
    public static TheoryData<string> Orchestrations => [.. WorkflowCatalog.Orchestrations.Select(o => o.Name)];

    public static TheoryData<string> Activities => [.. WorkflowCatalog.Activities.Select(a => a.Name)];

    [Theory]
    [MemberData(nameof(Orchestrations))]
    public void Orchestration_CatalogEntry_HasOneOrchestratorFunctionOfThatName(string name)
    {
        var entry = WorkflowCatalog.Orchestrations.Single(o => o.Name == name);
        var (input, output) = PortTypes(entry.Type, typeof(IOrchestration<,>));

        var function = Assert.Single(FunctionIndex.All, f => f.Name == name);

        var (parameter, _) = function.Binding(typeof(OrchestrationTriggerAttribute))
            ?? throw new Xunit.Sdk.XunitException($"{function} has no [OrchestrationTrigger] parameter.");
        Assert.Equal(typeof(TaskOrchestrationContext), parameter.ParameterType);
        Assert.Equal(typeof(Task<>).MakeGenericType(output), function.Method.ReturnType);
        Assert.NotNull(input);
    }

    [Theory]
    [MemberData(nameof(Activities))]
    public void Activity_CatalogEntry_HasOneActivityFunctionOfThatNameAndInputType(string name)
    {
        var entry = WorkflowCatalog.Activities.Single(a => a.Name == name);
        var (input, output) = PortTypes(entry.Type, typeof(IActivity<,>));

        var function = Assert.Single(FunctionIndex.All, f => f.Name == name);

        var (parameter, _) = function.Binding(typeof(ActivityTriggerAttribute))
            ?? throw new Xunit.Sdk.XunitException($"{function} has no [ActivityTrigger] parameter.");
        Assert.Equal(input, parameter.ParameterType);
        Assert.Equal(typeof(Task<>).MakeGenericType(output), function.Method.ReturnType);
    }

    [Fact]
    public void DurableTriggers_EveryOrchestratorAndActivityFunction_IsInTheCatalog()
    {
        var orchestrators = FunctionIndex.WithTrigger(typeof(OrchestrationTriggerAttribute)).Select(f => f.Name);
        var activities = FunctionIndex.WithTrigger(typeof(ActivityTriggerAttribute)).Select(f => f.Name);

        Assert.Equal(WorkflowCatalog.Orchestrations.Select(o => o.Name).Order(), orchestrators.Order());
        Assert.Equal(WorkflowCatalog.Activities.Select(a => a.Name).Order(), activities.Order());
    }

    [Fact]
    public void Functions_NamesAndTriggers_AreUniqueAndEachHasOneTrigger()
    {
        Type[] triggers =
        [
            typeof(OrchestrationTriggerAttribute), typeof(ActivityTriggerAttribute), typeof(HttpTriggerAttribute),
            typeof(QueueTriggerAttribute), typeof(BlobTriggerAttribute), typeof(EventGridTriggerAttribute),
        ];

        Assert.True(FunctionIndex.All.Count >= WorkflowCatalog.Orchestrations.Count + WorkflowCatalog.Activities.Count + 8);
        Assert.Equal(FunctionIndex.All.Count, FunctionIndex.All.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(FunctionIndex.All, f => Assert.Single(triggers, t => f.Binding(t) is not null));
    }

    [Fact]
    public void DurableClientBindings_AreDurableTaskClients()
    {
        var bound = FunctionIndex.All.Where(f => f.Binding(typeof(DurableClientAttribute)) is not null).ToList();

        Assert.Equal(FunctionIndex.WithTrigger(typeof(HttpTriggerAttribute)).Count + 2, bound.Count); // every HTTP, queue, upload
        Assert.All(bound, f => Assert.Equal(typeof(DurableTaskClient), f.Binding(typeof(DurableClientAttribute))!.Value.Parameter.ParameterType));
    }

    [Fact]
    public void Http_EveryJobsApiRoute_HasOneFunctionWithFunctionLevelAuth()
    {
        var routes = JobsApiRoutes();
        var http = FunctionIndex.WithTrigger(typeof(HttpTriggerAttribute))
            .Select(f =>
            {
                var data = f.Binding(typeof(HttpTriggerAttribute))!.Value.Data;
                return (Function: f, Data: data, Verb: Assert.Single(FunctionIndex.Strings(data.ConstructorArguments[1])).ToUpperInvariant(),
                    Route: (string?)FunctionIndex.Named(data, nameof(HttpTriggerAttribute.Route)));
            })
            .ToList();

        Assert.Equal(6, routes.Count);
        Assert.Equal(routes.Order(), http.Select(h => $"{h.Verb} api/{h.Route}").Order());
        Assert.All(http, h =>
        {
            Assert.Equal(typeof(AuthorizationLevel), h.Data.ConstructorArguments[0].ArgumentType);
            Assert.Equal((int)AuthorizationLevel.Function, (int)h.Data.ConstructorArguments[0].Value!);
            Assert.StartsWith(JobsApi.Route["api/".Length..], h.Route, StringComparison.Ordinal);
            Assert.Equal(typeof(HttpRequest), h.Function.Binding(typeof(HttpTriggerAttribute))!.Value.Parameter.ParameterType);
            Assert.Equal(typeof(Task<Microsoft.AspNetCore.Mvc.IActionResult>), h.Function.Method.ReturnType); // the integration runs IActionResult, not IResult
            foreach (Match parameter in RouteParameter().Matches(h.Route!))
            {
                Assert.Contains(h.Function.Method.GetParameters(), p => p.Name == parameter.Groups[1].Value && p.ParameterType == typeof(string));
            }
        });
    }

    [Fact]
    public void Queue_StartJobFromQueue_TriggersOnImageJobsWithTheMessage()
    {
        var function = Assert.Single(FunctionIndex.WithTrigger(typeof(QueueTriggerAttribute)));
        var (parameter, data) = function.Binding(typeof(QueueTriggerAttribute))!.Value;

        Assert.Equal("StartJobFromQueue", function.Name);
        Assert.Equal("image-jobs", data.ConstructorArguments[0].Value);
        Assert.Equal(ImageJobsOptions.JobsQueue, data.ConstructorArguments[0].Value);
        Assert.Equal(ImageJobsOptions.JobsQueue + "-poison", ImageJobsOptions.PoisonQueue); // where the runtime moves failures
        Assert.Equal(StorageClients.ConnectionName, FunctionIndex.Named(data, nameof(QueueTriggerAttribute.Connection)));
        Assert.Equal(typeof(QueueMessage), parameter.ParameterType);
    }

    [Fact]
    public void Blob_OnUpload_TriggersOnUploadsFromEventGridAsInfraExpects()
    {
        var function = Assert.Single(FunctionIndex.WithTrigger(typeof(BlobTriggerAttribute)));
        var (parameter, data) = function.Binding(typeof(BlobTriggerAttribute))!.Value;

        Assert.Equal("OnUpload", function.Name);
        Assert.Equal("uploads/{name}", data.ConstructorArguments[0].Value);
        Assert.Equal(ImageJobsOptions.UploadsContainer + "/{name}", data.ConstructorArguments[0].Value);
        Assert.Equal((int)BlobTriggerSource.EventGrid, (int)FunctionIndex.Named(data, nameof(BlobTriggerAttribute.Source))!);
        Assert.Equal(StorageClients.ConnectionName, FunctionIndex.Named(data, nameof(BlobTriggerAttribute.Connection)));
        Assert.Equal(typeof(BlobClient), parameter.ParameterType);
        Assert.Contains($"param uploadFunctionName string = '{function.Name}'", Repo.Read("infra", "main.bicep"), StringComparison.Ordinal);
    }

    [Fact]
    public void OrchestrationStatus_PortAndDurable_HaveTheSameMembersAndValues()
    {
        // DurableMapping converts the status by value.
        static IEnumerable<string> Members(Type type) =>
            type.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => $"{f.Name}={Convert.ToInt32(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}");

        Assert.Equal(Members(typeof(OrchestrationRuntimeStatus)), Members(typeof(OrchestrationStatus)));
    }

    private static (Type Input, Type Output) PortTypes(Type type, Type port)
    {
        var implemented = Assert.Single(type.GetInterfaces(), i => i.IsGenericType && i.GetGenericTypeDefinition() == port);
        return (implemented.GenericTypeArguments[0], implemented.GenericTypeArguments[1]);
    }

    /// <summary>"VERB api/route" for each handler of JobsApi, read from its XML doc (<c>&lt;c&gt;VERB /api/…&lt;/c&gt;</c>).</summary>
    private static List<string> JobsApiRoutes()
    {
        string xml = Path.ChangeExtension(typeof(JobsApi).Assembly.Location, ".xml");
        Assert.True(File.Exists(xml), $"{xml} is missing: ImageJobs.Workflow generates XML docs.");
        var members = XDocument.Load(xml).Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m);
        var handlers = typeof(JobsApi).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
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

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex RouteParameter();
}
