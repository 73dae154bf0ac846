using ImageJobs.Workflow.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Local.Tests;

/// <summary>The local host's jobs API endpoints: the Functions app's routes (<see cref="JobsRoutes"/>), verb for verb.</summary>
public sealed class MapJobsApiTests
{
    [Fact]
    public async Task MapJobsApi_Endpoints_AreTheFunctionsAppsRoutesUnderApi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Registered so the handlers' parameters bind as services, as in the host; no request is made, so none is built.
        builder.Services.AddSingleton<JobsApi>(_ => throw new NotSupportedException());
        builder.Services.AddSingleton<DurableTaskClient>(_ => throw new NotSupportedException());
        await using var app = builder.Build();

        app.MapJobsApi("key");

        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => $"{Assert.Single(e.Metadata.GetRequiredMetadata<IHttpMethodMetadata>().HttpMethods)} {e.RoutePattern.RawText!.Trim('/')}");
        Assert.Equal(
            new[]
            {
                "POST api/jobs", "GET api/jobs", "GET api/jobs/{id}", "POST api/jobs/{id}/cancel", "POST api/jobs/{id}/events/{name}",
                "DELETE api/jobs/{id}",
            }.Order(StringComparer.Ordinal),
            endpoints.Order(StringComparer.Ordinal));
    }
}
