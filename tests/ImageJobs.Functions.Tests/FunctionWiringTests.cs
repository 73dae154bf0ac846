using System.Reflection;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using Azure.Storage.Queues.Models;
using ImageJobs.Functions.Triggers;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Tests;

/// <summary>
/// What <c>functions.metadata</c> cannot say (<see cref="FunctionMetadataTests"/> checks names, routes and bindings): the
/// CLR types the functions bind, against the workflow's types.
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
        var (input, output) = TaskTypes(entry.Type, typeof(TaskOrchestrator<,>));

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
        var (input, output) = TaskTypes(entry.Type, typeof(TaskActivity<,>));

        var function = Assert.Single(FunctionIndex.All, f => f.Name == name);

        var (parameter, _) = function.Binding(typeof(ActivityTriggerAttribute))
            ?? throw new Xunit.Sdk.XunitException($"{function} has no [ActivityTrigger] parameter.");
        Assert.Equal(input, parameter.ParameterType);
        Assert.Equal(typeof(Task<>).MakeGenericType(output), function.Method.ReturnType);
    }

    [Fact]
    public void DurableClientBindings_AreDurableTaskClients()
    {
        var bound = FunctionIndex.All.Where(f => f.Binding(typeof(DurableClientAttribute)) is not null).ToList();

        Assert.Equal(FunctionIndex.WithTrigger(typeof(HttpTriggerAttribute)).Count + 3, bound.Count); // every HTTP, queue, upload, purge timer
        Assert.All(bound, f => Assert.Equal(typeof(DurableTaskClient), f.Binding(typeof(DurableClientAttribute))!.Value.Parameter.ParameterType));
    }

    [Fact]
    public void Http_Functions_BindTheAspNetCoreRequestAndReturnActionResults()
    {
        var http = FunctionIndex.WithTrigger(typeof(HttpTriggerAttribute));

        Assert.NotEmpty(http);
        Assert.All(http, f =>
        {
            var (parameter, data) = f.Binding(typeof(HttpTriggerAttribute))!.Value;
            Assert.Equal(typeof(HttpRequest), parameter.ParameterType);
            Assert.Equal(typeof(Task<Microsoft.AspNetCore.Mvc.IActionResult>), f.Method.ReturnType); // the integration runs IActionResult, not IResult
            foreach (Match routeParameter in RouteParameter().Matches((string?)FunctionIndex.Named(data, nameof(HttpTriggerAttribute.Route)) ?? string.Empty))
            {
                Assert.Contains(f.Method.GetParameters(), p => p.Name == routeParameter.Groups[1].Value && p.ParameterType == typeof(string));
            }
        });
    }

    [Fact]
    public void Queue_StartJobFromQueue_BindsTheQueueMessage()
    {
        var function = Assert.Single(FunctionIndex.WithTrigger(typeof(QueueTriggerAttribute)));

        Assert.Equal(typeof(QueueMessage), function.Binding(typeof(QueueTriggerAttribute))!.Value.Parameter.ParameterType);
        Assert.Equal(ImageJobsOptions.JobsQueue + "-poison", ImageJobsOptions.PoisonQueue); // where the runtime moves failures
    }

    [Fact]
    public void Blob_OnUpload_BindsABlobClient()
    {
        var function = Assert.Single(FunctionIndex.WithTrigger(typeof(BlobTriggerAttribute)));

        Assert.Equal(typeof(BlobClient), function.Binding(typeof(BlobTriggerAttribute))!.Value.Parameter.ParameterType);
    }

    private static (Type Input, Type Output) TaskTypes(Type type, Type baseDefinition)
    {
        Assert.True(type.IsSealed, $"{type} is not sealed.");
        var baseType = type.BaseType;
        Assert.True(baseType is { IsGenericType: true } && baseType.GetGenericTypeDefinition() == baseDefinition, $"{type} does not derive from {baseDefinition.Name}.");
        Assert.Equal(type.Name, WorkflowCatalog.Orchestrations.Concat(WorkflowCatalog.Activities).Single(f => f.Type == type).Name);
        return (baseType!.GenericTypeArguments[0], baseType.GenericTypeArguments[1]);
    }

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex RouteParameter();
}
