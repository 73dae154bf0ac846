using ImageJobs.DashScope.Emulator;

// dotnet run --project src/ImageJobs.DashScope.Emulator -- --urls http://127.0.0.1:8089 [--api-key sk-emulator] [--time-scale 0.05] [--seed 1] [--data-folder .emulator]
var builder = WebApplication.CreateSlimBuilder(args);
builder.Configuration.AddDashScopeEmulatorCommandLine(args);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024 * 1024);
builder.Services.AddDashScopeEmulator(builder.Configuration.GetDashScopeEmulatorOptions());

var app = builder.Build();
app.MapDashScopeEmulator();
app.Run();
