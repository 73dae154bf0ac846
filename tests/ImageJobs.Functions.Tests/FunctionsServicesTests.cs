using System.Text.Json;
using Azure.Core.Serialization;
using ImageJobs.Functions.Durable;
using ImageJobs.Functions.Http;
using ImageJobs.Functions.Triggers;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Http;
using ImageJobs.Workflow.Triggers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageJobs.Functions.Tests;

/// <summary>The registrations Program.cs makes, and the HTTP result adapter, run for real (no Functions host needed).</summary>
public sealed class FunctionsServicesTests
{
    [Fact]
    public void Registrations_AsProgramMakesThem_ValidateWithoutAnOrchestrationClientInDi()
    {
        using var provider = ProgramServices().BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.Null(provider.GetService<IOrchestrationClient>());
        Assert.Null(provider.GetService<JobsApi>());
        Assert.Null(provider.GetService<JobIntake>());
        Assert.NotNull(provider.GetRequiredService<DurableClientServices>());
        Assert.NotNull(ActivatorUtilities.CreateInstance<JobsHttpFunctions>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<IntakeFunctions>(provider));
    }

    [Fact]
    public void UseDurableJson_WorkerSerializer_WritesWhatTheEmbeddedEngineWrites()
    {
        using var provider = ProgramServices().BuildServiceProvider();
        var serializer = Assert.IsType<JsonObjectSerializer>(provider.GetRequiredService<IOptions<WorkerOptions>>().Value.Serializer);
        var value = new OrchestrationFailureDetails("System.TimeoutException", "slow");

        var json = serializer.Serialize(value, typeof(OrchestrationFailureDetails), default).ToString();

        Assert.Equal(DurableJson.Serialize(value), json);
        Assert.Contains("\"errorType\":", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResultActionResult_Execute_WritesTheJobsApiResultToTheResponse()
    {
        var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        IActionResult action = await Task.FromResult(JobsApi.Problem(404, "Job not found", "There is no job 'x'.")).AsActionResult();

        await action.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));

        Assert.Equal(404, http.Response.StatusCode);
        Assert.StartsWith("application/problem+json", http.Response.ContentType, StringComparison.Ordinal);
        http.Response.Body.Position = 0;
        using var body = await JsonDocument.ParseAsync(http.Response.Body);
        Assert.Equal("Job not found", body.RootElement.GetProperty("title").GetString());
    }

    private static ServiceCollection ProgramServices()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [StorageClients.ConnectionName] = "UseDevelopmentStorage=true",
                ["DASHSCOPE_API_KEY"] = "sk-test",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddImageJobs(configuration);
        services.UseDurableJson();
        services.AddDurableClientAdapter();
        return services;
    }
}
