using System.Text.Json;
using Azure.Core.Serialization;
using ImageJobs.DashScope;
using ImageJobs.Functions.Hosting;
using ImageJobs.Functions.Http;
using ImageJobs.Functions.Triggers;
using ImageJobs.Workflow.Api;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ImageJobs.Functions.Tests;

/// <summary>The app's service container as Program.cs builds it, and the HTTP result adapter, run for real (no Functions host needed).</summary>
public sealed class FunctionsServicesTests
{
    [Fact]
    public void AppHost_BuiltAsProgramBuildsIt_ResolvesEveryFunctionClassAndActivityAndValidatesItsOptions()
    {
        using var host = AppHost.Build();
        var services = host.Services;

        services.GetRequiredService<IStartupValidator>().Validate(); // what ValidateOnStart runs when the host starts
        Assert.Equal("sk-test", services.GetRequiredService<IOptions<DashScopeClientOptions>>().Value.ApiKey);
        Assert.NotNull(services.GetRequiredService<IOptions<ImageJobsOptions>>().Value);
        Assert.NotNull(services.GetRequiredService<IOptions<OutboundOptions>>().Value);
        Assert.NotNull(services.GetRequiredService<IOptions<UploadOptions>>().Value);
        Assert.All(WorkflowCatalog.Activities, a => Assert.IsType(a.Type, services.GetRequiredService(a.Type)));
        Assert.Null(services.GetService<DurableTaskClient>()); // in Functions the client exists only as a binding
        Assert.NotNull(services.GetService<JobsApi>()); // which each call passes to the API and the intake
        Assert.NotNull(services.GetService<JobIntake>());
        Assert.NotNull(ActivatorUtilities.CreateInstance<JobsHttpFunctions>(services));
        Assert.NotNull(ActivatorUtilities.CreateInstance<IntakeFunctions>(services));
    }

    [Fact]
    public void AppHost_MalformedWebhookSecret_FailsStartValidationNamingTheSettingNotTheValue()
    {
        const string secret = "whsec_not*base64";
        using var host = AppHost.Build(("IMAGEJOBS_WEBHOOK_SECRET", secret));

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("IMAGEJOBS_WEBHOOK_SECRET", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkerSerializer_WritesWhatTheLocalHostWrites()
    {
        using var host = AppHost.Build();
        var serializer = Assert.IsType<JsonObjectSerializer>(host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.Serializer);
        var value = new JobError("Timeout", "slow");

        var json = serializer.Serialize(value, typeof(JobError), default).ToString();

        Assert.Equal(DurableJson.Serialize(value), json);
        Assert.Contains("\"code\":", json, StringComparison.Ordinal);
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
}
