using ImageJobs.Functions.Durable;
using ImageJobs.Workflow.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;

namespace ImageJobs.Functions.Hosting;

/// <summary>What Program.cs does to the Functions builder, in one place the tests can call too.</summary>
public static class FunctionsAppBuilderExtensions
{
    /// <summary>
    /// The ASP.NET Core integration (HTTP functions bind <c>HttpRequest</c> and return <c>IActionResult</c>), the
    /// workflow's registrations, Durable's serializer set to the workflow's JSON, and the per-invocation
    /// <see cref="DurableClientServices"/> the HTTP, queue and blob triggers use.
    /// </summary>
    /// <param name="builder">The builder from <c>FunctionsApplication.CreateBuilder</c>.</param>
    public static FunctionsApplicationBuilder AddImageJobsFunctions(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddImageJobs(builder.Configuration);
        builder.Services.UseDurableJson();
        builder.Services.AddDurableClientAdapter();
        return builder;
    }
}
