using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Testing;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>
/// The whole local app in-process (<see cref="LocalApp.BuildAsync"/>) on a test's Azurite, with a test-owned emulator,
/// its own task hub, a function key, a webhook secret, and every log line captured.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string FunctionKey = "local-tests-function-key";
    public const string WebhookSecret = "whsec_bG9jYWwtdGVzdHMtd2ViaG9vay1zZWNyZXQtMzJieXRlcyE=";

    /// <summary>The orchestration registered in every test app that waits for a job's completion event and returns it.</summary>
    public const string WaiterOrchestration = "TestWaitsForJob";

    private TestApp(WebApplication app, LocalEnvironment environment, DashScopeEmulatorHost emulator, CapturingLoggerProvider logs, string hub)
    {
        App = app;
        Environment = environment;
        Emulator = emulator;
        Logs = logs;
        Hub = hub;
        BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
        Client = app.Services.GetRequiredService<DurableTaskClient>();
        Blobs = app.Services.GetRequiredService<BlobServiceClient>();
        Queues = app.Services.GetRequiredService<QueueServiceClient>();
    }

    public WebApplication App { get; }

    public LocalEnvironment Environment { get; }

    public DashScopeEmulatorHost Emulator { get; }

    public CapturingLoggerProvider Logs { get; }

    public string Hub { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public DurableTaskClient Client { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }

    /// <summary>Starts an emulator with <paramref name="emulator"/> options and the app against it.</summary>
    public static async Task<TestApp> StartAsync(
        AzuriteFixture azurite,
        DashScopeEmulatorOptions? emulator = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        bool triggers = false,
        Action<DurableTaskRegistry>? configureTasks = null)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        emulator ??= new DashScopeEmulatorOptions();
        emulator.ApiKey ??= "sk-local-tests";
        if (emulator.TimeScale == 1.0)
        {
            emulator.TimeScale = 0.01;
        }

        emulator.Seed ??= 7;
        var emu = await DashScopeEmulator.StartAsync(emulator);
        var authority = emu.RootAddress.Authority;
        var hub = "T" + Guid.NewGuid().ToString("N")[..16];
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["DashScope:Endpoint"] = emu.BaseAddress.AbsoluteUri,
            ["DashScope:ApiKey"] = emulator.ApiKey,
            ["ImageJobs:ResultHosts:0"] = authority,
            ["ImageJobs:Outbound:AllowedHosts:0"] = authority,
            ["ImageJobs:ExpectedDurationScale"] = emulator.TimeScale.ToString(CultureInfo.InvariantCulture),
            ["IMAGEJOBS_WEBHOOK_SECRET"] = WebhookSecret,
            [LocalApp.FunctionKeySetting] = FunctionKey,
            [LocalApp.HubNameSetting] = hub,
            ["AzureFunctionsJobHost:extensions:queues:maxPollingInterval"] = "00:00:00.250",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            overrides[key] = value;
        }

        var logs = new CapturingLoggerProvider();
        try
        {
            var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions
            {
                Root = RepoPaths.Root,
                Urls = "http://127.0.0.1:0",
                Triggers = triggers,
                Overrides = overrides,
                ConfigureLogging = logging => logging.ClearProviders().AddProvider(logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace),
                ConfigureTasks = tasks =>
                {
                    tasks.AddOrchestratorFunc<JsonElement?, JsonElement?>(WaiterOrchestration,
                        (context, _) => context.WaitForExternalEvent<JsonElement?>("ImageJobCompleted"));
                    configureTasks?.Invoke(tasks);
                },
            });
            try
            {
                await app.StartAsync();
            }
            catch
            {
                await app.DisposeAsync();
                await environment.DisposeAsync();
                throw;
            }

            return new TestApp(app, environment, emu, logs, hub);
        }
        catch
        {
            await emu.DisposeAsync();
            throw;
        }
    }

    /// <summary>POSTs a job to <c>/api/jobs</c>.</summary>
    public Task<HttpResponseMessage> PostJobAsync(JsonNode job) =>
        Http.PostAsync("api/jobs", new StringContent(job.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

    /// <summary>POSTs a job that must be accepted; returns its id.</summary>
    public async Task<string> StartJobAsync(JsonNode job)
    {
        using var response = await PostJobAsync(job);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"POST /api/jobs answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    /// <summary>Waits until the instance is terminal (generous timeout; fails with its last state).</summary>
    public async Task<OrchestrationMetadata> WaitForInstanceAsync(string id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        OrchestrationMetadata? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Client.GetInstanceAsync(id, getInputsAndOutputs: true);
            if (last is { IsCompleted: true })
            {
                return last;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Instance '{id}' did not finish in time; last state {last?.RuntimeStatus}, custom status {last?.SerializedCustomStatus}.");
        return null!;
    }

    /// <summary>Waits for a job and returns its result (the orchestration must have completed).</summary>
    public async Task<JobResult> WaitForJobAsync(string id, TimeSpan? timeout = null)
    {
        var instance = await WaitForInstanceAsync(id, timeout);
        Assert.True(instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed,
            $"Job '{id}' ended {instance.RuntimeStatus}: {JsonSerializer.Serialize(instance.FailureDetails)}");
        return DurableJson.Deserialize<JobResult>(instance.SerializedOutput)!;
    }

    /// <summary>Every instance whose id starts with <paramref name="prefix"/>, with inputs and outputs (all pages).</summary>
    public async Task<List<OrchestrationMetadata>> QueryAsync(string prefix)
    {
        var found = new List<OrchestrationMetadata>();
        await foreach (var instance in Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 100, FetchInputsAndOutputs = true }))
        {
            found.Add(instance);
        }

        return found;
    }

    /// <summary>How many rows the task hub's History table holds for <paramref name="instanceId"/> (its current execution).</summary>
    public async Task<int> HistoryRowsAsync(string instanceId)
    {
        var settings = Environment.TaskHub!.Settings;
        var table = new Azure.Data.Tables.TableServiceClient(App.Configuration["AzureWebJobsStorage"]).GetTableClient(settings.TaskHubName + "History");
        var rows = 0;
        await foreach (var _ in table.QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == instanceId))
        {
            rows++;
        }

        return rows;
    }

    /// <summary>Reads the <c>GET /api/jobs/{id}</c> body.</summary>
    public async Task<JsonObject> GetStatusAsync(string id)
    {
        using var response = await Http.GetAsync($"api/jobs/{Uri.EscapeDataString(id)}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Environment.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
