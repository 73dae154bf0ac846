using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Functions.Hosting;

/// <summary>What Program.cs does to the Functions builder, in one place the tests can call too.</summary>
public static class FunctionsAppBuilderExtensions
{
    /// <summary>
    /// The ASP.NET Core integration (HTTP functions bind <c>HttpRequest</c> and return <c>IActionResult</c>), the
    /// workflow's registrations, and the worker's serializer set to <see cref="DurableJson.Options"/>: Durable uses it
    /// for inputs, outputs, activity bindings and custom status, so the task hub holds the same JSON as the local host
    /// writes (the jobs API shows it as it is).
    /// </summary>
    /// <param name="builder">The builder from <c>FunctionsApplication.CreateBuilder</c>.</param>
    public static FunctionsApplicationBuilder AddImageJobsFunctions(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddImageJobs(builder.Configuration);
        builder.Services.Configure<WorkerOptions>(options => options.Serializer = new Azure.Core.Serialization.JsonObjectSerializer(DurableJson.Options));
        return builder;
    }
}
