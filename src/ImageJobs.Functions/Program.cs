using ImageJobs.Functions.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The Azure Functions app: everything it registers is in AddImageJobsFunctions; every decision is in ImageJobs.Workflow.
var builder = FunctionsApplication.CreateBuilder(args);
builder.AddImageJobsFunctions();
builder.Build().Run();
