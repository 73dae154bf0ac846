using ImageJobs.Functions.Durable;
using ImageJobs.Workflow.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The Azure Functions app: the workflow's registrations, Durable's serializer set to the workflow's JSON, and the
// DurableTaskClient adapter the HTTP, queue and blob triggers use. Everything else is in ImageJobs.Workflow.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddImageJobs(builder.Configuration);
builder.Services.UseDurableJson();
builder.Services.AddDurableClientAdapter();
builder.Build().Run();
