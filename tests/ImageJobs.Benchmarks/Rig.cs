using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DurableTask.AzureStorage;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local;
using ImageJobs.Testing;
using ImageJobs.Workflow.Intake;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Benchmarks;

/// <summary>What a <see cref="Rig"/> runs.</summary>
internal sealed record RigOptions
{
    public double TimeScale { get; init; } = 0.01;

    public bool Limits { get; init; } = true;

    /// <summary>Whether the emulator's RPS/QPS windows (and the app's pacing and poll budget) are time-scaled too.</summary>
    public bool ScaleRateWindows { get; init; }

    public RuntimeKnobs Knobs { get; init; } = new();

    /// <summary>Settings applied last (a benchmark's own).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Extra orchestrators and activities (the floor and scale benchmarks).</summary>
    public Action<DurableTaskRegistry>? ConfigureTasks { get; init; }
}

/// <summary>
/// The whole pipeline on loopback, as the tests run it (<c>TestApp</c>): a private in-memory Azurite, the emulator, a
/// webhook receiver, and the local app (<see cref="LocalApp.BuildAsync"/>: the framework's TaskHubWorker over the Azure
/// Storage provider running the Microsoft.DurableTask tasks, and the client adapter; no HTTP, no triggers), with
/// host.json's durableTask settings and the benchmark's <see cref="RuntimeKnobs"/> on top.
/// </summary>
internal sealed class Rig : IAsyncDisposable
{
    public const string Secret = "benchmark-webhook-secret";

    private readonly AzuriteProcess _azurite;
    private readonly WebApplication _receiver;
    private readonly LocalEnvironment _environment;

    private Rig(AzuriteProcess azurite, DashScopeEmulatorHost emulator, WebApplication receiver, WebApplication app, LocalEnvironment environment, ConcurrentDictionary<string, DateTime> webhooks, LogCounter logs)
    {
        Logs = logs;
        _azurite = azurite;
        Emulator = emulator;
        _receiver = receiver;
        App = app;
        _environment = environment;
        Webhooks = webhooks;
        Client = app.Services.GetRequiredService<DurableTaskClient>();
        Intake = app.Services.GetRequiredService<JobIntake>();
    }

    public DashScopeEmulatorHost Emulator { get; }

    /// <summary>The app's and the task hub's warnings and errors, counted.</summary>
    public LogCounter Logs { get; }

    public WebApplication App { get; }

    public DurableTaskClient Client { get; }

    public JobIntake Intake { get; }

    /// <summary>The provider settings the hub runs with (host.json + overrides + the local recovery values).</summary>
    public AzureStorageOrchestrationServiceSettings Settings => _environment.TaskHub!.Settings;

    /// <summary>The storage connection string (the private Azurite).</summary>
    public string StorageConnectionString => _azurite.ConnectionString;

    /// <summary>Azurite's node process (a separate process: its memory is not in this one's RSS).</summary>
    public int AzuriteProcessId => _azurite.ProcessId;

    /// <summary>When each webhook (by <c>webhook-id</c>) was received.</summary>
    public ConcurrentDictionary<string, DateTime> Webhooks { get; }

    public string WebhookUrl => _receiver.Urls.First() + "/hook";

    public static async Task<Rig> StartAsync(RigOptions options)
    {
        var executable = AzuriteProcess.Find(RepoPaths.Root)
            ?? throw new InvalidOperationException($"Azurite is not installed under {RepoPaths.Root}. Run 'npm ci' at the repository root.");
        var azurite = await AzuriteProcess.StartAsync(executable);
        var emulator = await DashScopeEmulator.StartAsync(new DashScopeEmulatorOptions
        {
            TimeScale = options.TimeScale, ApiKey = "sk-bench", Seed = 1, EnableLimits = options.Limits, ScaleRateWindows = options.ScaleRateWindows,
        });
        var webhooks = new ConcurrentDictionary<string, DateTime>();
        var receiverBuilder = WebApplication.CreateSlimBuilder();
        receiverBuilder.Logging.ClearProviders();
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = receiverBuilder.Build();
        receiver.MapPost("/hook", (HttpRequest request) =>
        {
            webhooks[request.Headers["webhook-id"].ToString()] = DateTime.UtcNow;
            return Results.Ok();
        });
        await receiver.StartAsync();
        var authority = emulator.RootAddress.Authority;
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["DashScope:Endpoint"] = emulator.BaseAddress.AbsoluteUri,
            ["DashScope:ApiKey"] = "sk-bench",
            ["ImageJobs:ResultHosts:0"] = authority,
            ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true",
            ["ImageJobs:ExpectedDurationScale"] = options.TimeScale.ToString(CultureInfo.InvariantCulture),
            ["ImageJobs:RateWindowScale"] = (options.ScaleRateWindows ? options.TimeScale : 1).ToString(CultureInfo.InvariantCulture),
            ["IMAGEJOBS_WEBHOOK_SECRET"] = Secret,
        };
        foreach (var (key, value) in options.Knobs.Overrides.Concat(options.Settings))
        {
            overrides[key] = value;
        }

        var logs = new LogCounter();
        var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions
        {
            ConfigureLogging = logging => LogCounter.Use(logging, logs),
            Root = RepoPaths.Root,
            Urls = null,
            Triggers = false,
            Quiet = true,
            InMemoryStorage = true,
            Overrides = overrides,
            ConfigureTasks = options.ConfigureTasks,
        });
        await app.StartAsync();
        return new Rig(azurite, emulator, receiver, app, environment, webhooks, logs);
    }

    /// <summary>Every task the emulator ran, by task id: model, start (RUNNING) and end time, from <c>GET /tasks</c>.</summary>
    public async Task<Dictionary<string, (string Model, DateTimeOffset Start, DateTimeOffset End)>> ListProviderTasksAsync()
    {
        var api = new DashScopeClient(new DashScopeClientOptions { Endpoint = Emulator.BaseAddress, ApiKey = "sk-bench" });
        var tasks = new Dictionary<string, (string, DateTimeOffset, DateTimeOffset)>(StringComparer.Ordinal);
        for (var page = 1; ; page++)
        {
            var list = await api.ListTasksAsync(new DashScopeTaskListQuery { PageNo = page, PageSize = 100 });
            foreach (var task in list.Tasks.Where(t => t.StartTime is not null && t.EndTime is not null))
            {
                tasks[task.TaskId!] = (task.ModelName!, task.StartTime!.Value, task.EndTime!.Value);
            }

            if (list.Tasks.Count < 100)
            {
                return tasks;
            }
        }
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly (double Self, double Azurite) _cpuAtStart = (SelfCpuSeconds(), 0);

    /// <summary>
    /// Adds to <paramref name="report"/> the CPU this process and Azurite (a single-threaded node process) used since the
    /// rig started, as cores busy on average (1.0 = one core all the time), and the counted warnings and errors.
    /// </summary>
    public void Describe(Report report)
    {
        var wall = _clock.Elapsed.TotalSeconds;
        report.Add("cpu.this_process_cores", (SelfCpuSeconds() - _cpuAtStart.Self) / wall, "cores", "app, engine, emulator, benchmark");
        report.Add("cpu.azurite_cores", AzuriteCpuSeconds() / wall, "cores", "node: ~1.0 = saturated");
        Logs.Describe(report);
    }

    private static double SelfCpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private double AzuriteCpuSeconds() => ProcessCpu.Seconds(_azurite.ProcessId);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await _environment.DisposeAsync();
        await _receiver.DisposeAsync();
        await Emulator.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}
