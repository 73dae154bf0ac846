using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The storage the local host stands in for itself: an Azurite that <c>serve</c> starts keeps its data under the app
/// root, dies with the process that started it (even by SIGKILL), is reused rather than started twice on one folder,
/// and is never substituted for a connection string that names its own endpoints.
/// </summary>
public sealed class LocalStorageTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("imagejobs-root-");

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // An Azurite still closing its files; the temp folder is the machine's to clean.
        }
    }

    [Fact]
    public async Task Serve_SigkilledAndStartedAgain_ItsAzuriteDiesWithItAndTheJobsResumeFromTheSameFolder()
    {
        File.Copy(RepoPaths.Combine("host.json"), Path.Combine(_root.FullName, "host.json"));
        var apiKey = "sk-persist-" + Guid.NewGuid().ToString("N");
        var emulatorPort = FreePort.Next();
        var emulatorUrl = $"http://127.0.0.1:{emulatorPort}";
        using var emulator = ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.DashScope.Emulator"),
            ["--urls", emulatorUrl, "--api-key", apiKey, "--time-scale", "0.3", "--seed", "7"], new Dictionary<string, string>());
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await emulator.WaitUntilReadyAsync(plain, emulatorUrl + "/emulator/stats");
        var environment = new Dictionary<string, string>
        {
            // No AzureWebJobsStorage: development storage, which nothing serves, so serve starts its own Azurite.
            ["DashScope__Endpoint"] = emulatorUrl + "/api/v1/",
            ["DashScope__ApiKey"] = apiKey,
            ["ImageJobs__ResultHosts__0"] = $"127.0.0.1:{emulatorPort}",
            ["ImageJobs__Outbound__AllowedHosts__0"] = $"127.0.0.1:{emulatorPort}",
            ["ImageJobs__ExpectedDurationScale"] = "0.3",
            ["IMAGEJOBS_FUNCTION_KEY"] = "persist-key",
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:00:05",
        };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-functions-key", "persist-key");
        var folder = Path.Combine(_root.FullName, LocalEnvironment.AzuriteFolderName);

        // First life: start the jobs, and SIGKILL serve alone (not its process tree) once one is paid for.
        var (serve, port) = await StartServeAsync(http, environment);
        Assert.Contains($"started Azurite (data in {folder})", serve.Output, StringComparison.Ordinal);
        var firstAzurite = ReadState(folder);
        var ids = Enumerable.Range(0, 3).Select(i => $"persist-{i}-{Guid.NewGuid():N}").ToList();
        foreach (var id in ids)
        {
            var job = new JsonObject { ["jobId"] = id, ["model"] = "qwen-image", ["input"] = new JsonObject { ["prompt"] = "a lighthouse" } };
            using var response = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/api/jobs"), JsonContent.Create(job));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // Kill once every job has its task id recorded (a kill between the provider's accept and that record is the
        // one window in which a restart pays again) and while some still wait for their task.
        var running = 0;
        foreach (var id in ids)
        {
            var progress = await Eventually.GetAsync(async () =>
            {
                var status = await http.GetFromJsonAsync<JsonObject>(new Uri($"http://127.0.0.1:{port}/api/jobs/{id}"));
                return status?["customStatus"]?["taskId"] is not null || status?["runtimeStatus"]?.GetValue<string>() == "Completed" ? status : null;
            }, $"job {id} to have its task id recorded");
            running += progress!["runtimeStatus"]!.GetValue<string>() == "Completed" ? 0 : 1;
        }

        Assert.True(running > 0, "Every job finished before the kill; the test proves nothing.");
        serve.Process.Kill(entireProcessTree: false);
        await serve.Process.WaitForExitAsync();
        var firstLife = serve.Output;
        serve.Dispose();

        // Its Azurite notices and exits by itself: no orphan holds the folder.
        await Eventually.GetAsync(() => IsRunning(firstAzurite) ? null : "", $"Azurite (pid {firstAzurite}) to exit after its parent was killed",
            TimeSpan.FromSeconds(20));

        // Second life on the same folder: a new Azurite over the same data, and every job completes, paid once.
        (serve, port) = await StartServeAsync(http, environment);
        using var second = serve;
        Assert.Contains($"started Azurite (data in {folder})", second.Output, StringComparison.Ordinal);
        Assert.NotEqual(firstAzurite, ReadState(folder));
        try
        {
            foreach (var id in ids)
            {
                var status = await Eventually.GetAsync(async () =>
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/api/jobs/{id}"));
                    return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
                }, $"job {id} to complete after the restart", TimeSpan.FromMinutes(2));
                Assert.Equal("Succeeded", status!["output"]!["status"]!.GetValue<string>());
            }
        }
        finally
        {
            output.WriteLine(firstLife);
            output.WriteLine(second.Output);
        }

        Assert.Equal(ids.Count, (await StatsAsync(plain, emulatorUrl))["accepted"]!.GetValue<int>());
        var secondAzurite = ReadState(folder);
        second.Process.Kill(entireProcessTree: false);
        await Eventually.GetAsync(() => IsRunning(secondAzurite) ? null : "", "the second Azurite to exit with its parent", TimeSpan.FromSeconds(20));
    }

    // Azurite logs a line per request unless silenced; kept, they grew the host's memory for as long as it ran.
    [Fact]
    public async Task StartAsync_ManyRequests_OutputKeepsNoLinePerRequest()
    {
        await using var azurite = await AzuriteProcess.StartAsync(Executable());
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        var startLines = azurite.Output.Split('\n').Length;

        for (var i = 0; i < 300; i++)
        {
            await blobs.GetPropertiesAsync();
        }

        Assert.DoesNotContain("HTTP/1.1", azurite.Output, StringComparison.Ordinal);
        Assert.InRange(azurite.Output.Split('\n').Length, 1, Math.Max(startLines, AzuriteProcess.OutputLinesKept));
    }

    [Fact]
    public async Task StartAsync_FolderAnAzuriteAlreadyServes_ReusesItWithoutStoppingItOnDispose()
    {
        var folder = Path.Combine(_root.FullName, "data");
        await using var first = await AzuriteProcess.StartAsync(Executable(), folder);

        await using (var second = await AzuriteProcess.StartAsync(Executable(), folder))
        {
            Assert.True(first.Owned);
            Assert.False(second.Owned);
            Assert.Equal(first.ProcessId, second.ProcessId);
            Assert.Equal(first.ConnectionString, second.ConnectionString);
        }

        Assert.True(await AzuriteProcess.IsReachableAsync(new Uri($"http://127.0.0.1:{first.BlobPort}"), TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task DisposeAsync_PersistedAzurite_ClosesCleanlySoTheNextOneOnTheFolderHasTheData()
    {
        var folder = Path.Combine(_root.FullName, "data");
        var name = $"kept-{Guid.NewGuid():N}";
        int firstPid;
        await using (var first = await AzuriteProcess.StartAsync(Executable(), folder))
        {
            firstPid = first.ProcessId;
            var container = new BlobServiceClient(first.ConnectionString).GetBlobContainerClient("kept");
            await container.CreateIfNotExistsAsync();
            await container.UploadBlobAsync(name, BinaryData.FromString("still here"));
        }

        Assert.False(IsRunning(firstPid));
        await using var next = await AzuriteProcess.StartAsync(Executable(), folder);

        Assert.True(next.Owned);
        var blob = new BlobServiceClient(next.ConnectionString).GetBlobContainerClient("kept").GetBlobClient(name);
        Assert.Equal("still here", (await blob.DownloadContentAsync()).Value.Content.ToString());
    }

    // Azurite saves its data as each service closes and says so, but then stays alive while a client holds a connection
    // open (the task hub's clients did, and serve's stop waited for it, up to the 10 s kill).
    [Fact]
    public async Task DisposeAsync_PersistedAzuriteAClientHoldsAConnectionTo_ReturnsOnceItsServicesClosed()
    {
        var folder = Path.Combine(_root.FullName, "data");
        var azurite = await AzuriteProcess.StartAsync(Executable(), folder);
        var pid = azurite.ProcessId;
        await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("quick").CreateIfNotExistsAsync();
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, azurite.QueuePort);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await azurite.DisposeAsync();
        clock.Stop();
        output.WriteLine($"Stopped in {clock.Elapsed.TotalSeconds:0.00} s.");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"A persisted Azurite took {clock.Elapsed.TotalSeconds:0.00} s to stop.");
        Assert.False(IsRunning(pid));
        await using var next = await AzuriteProcess.StartAsync(Executable(), folder);
        Assert.True((await new BlobServiceClient(next.ConnectionString).GetBlobContainerClient("quick").ExistsAsync()).Value);
    }

    // What was stored may name Azurite's ports (the task hub keeps a large input as a blob and records its URL).
    [Fact]
    public async Task StartAsync_FolderStoppedAndStartedAgain_TakesTheSamePorts()
    {
        var folder = Path.Combine(_root.FullName, "data");
        (int Blob, int Queue, int Table) first;
        int firstPid;
        await using (var azurite = await AzuriteProcess.StartAsync(Executable(), folder))
        {
            first = (azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
            firstPid = azurite.ProcessId;
            await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("ports").CreateIfNotExistsAsync();
        }

        await using var next = await AzuriteProcess.StartAsync(Executable(), folder);

        Assert.True(next.Owned);
        Assert.NotEqual(firstPid, next.ProcessId);
        Assert.Equal(first, (next.BlobPort, next.QueuePort, next.TablePort));
        Assert.Equal(first, next.RecordedPorts);
        Assert.True((await new BlobServiceClient(next.ConnectionString).GetBlobContainerClient("ports").ExistsAsync()).Value);
    }

    [Fact]
    public async Task PrepareAsync_PortRecordedWithTheFolderTaken_StartsAzuriteOnFreePortsAndSaysSo()
    {
        var folder = Path.Combine(_root.FullName, LocalEnvironment.AzuriteFolderName);
        (int Blob, int Queue, int Table) recorded;
        await using (var azurite = await AzuriteProcess.StartAsync(Executable(), folder))
        {
            recorded = (azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
        }

        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, recorded.Queue);
        squatter.Start();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["DashScopeEmulator:TimeScale"] = "0.01",
        }).Build();

        await using var environment = await LocalEnvironment.PrepareAsync(_root.FullName, configuration, inMemoryStorage: false, CancellationToken.None);

        var azuriteStarted = environment.Azurite!;
        Assert.True(azuriteStarted.Owned);
        Assert.Equal(recorded, azuriteStarted.RecordedPorts);
        Assert.NotEqual(recorded.Queue, azuriteStarted.QueuePort);
        Assert.Contains(environment.Notes, note => note.Contains(
            $"ports Azurite had on this folder before ({recorded.Blob}/{recorded.Queue}/{recorded.Table}) are taken", StringComparison.Ordinal));
        Assert.True(await AzuriteProcess.IsReachableAsync(new Uri($"http://127.0.0.1:{azuriteStarted.QueuePort}"), TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task PrepareAsync_ConnectionStringWhoseEndpointsNeverAnswer_WaitsThenFailsNamingTheSettingInsteadOfStartingAzurite()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = AzuriteProcess.ConnectionStringFor(FreePort.Next(), FreePort.Next(), FreePort.Next()),
        }).Build();
        using var console = new StringWriter();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => LocalEnvironment.PrepareAsync(_root.FullName, configuration, inMemoryStorage: false, TimeSpan.FromSeconds(2), console, CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        Assert.Contains("does not answer yet; waiting up to 2 s for it to start", console.ToString(), StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage", error.Message, StringComparison.Ordinal);
        Assert.Contains("waited 2 s", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteProcess.AccountKey, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root.FullName, LocalEnvironment.AzuriteFolderName)));
    }

    // A storage emulator or container started with serve answers a few seconds after serve asks.
    [Fact]
    public async Task PrepareAsync_ConnectionStringWhoseStorageAnswersSecondsLate_WaitsForItAndUsesIt()
    {
        var blobPort = FreePort.Next();
        var connection = AzuriteProcess.ConnectionStringFor(blobPort, FreePort.Next(), FreePort.Next());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
            ["DashScopeEmulator:TimeScale"] = "0.01",
        }).Build();
        using var console = new StringWriter();
        using var late = new System.Net.Sockets.TcpListener(IPAddress.Loopback, blobPort);
        var listening = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            late.Start();
        });

        await using var environment = await LocalEnvironment.PrepareAsync(_root.FullName, configuration, inMemoryStorage: false, TimeSpan.FromSeconds(30), console, CancellationToken.None);
        await listening;

        Assert.Contains($"Storage at http://127.0.0.1:{blobPort} (AzureWebJobsStorage) does not answer yet; waiting up to 30 s", console.ToString(), StringComparison.Ordinal);
        Assert.Contains(environment.Notes, note => note.StartsWith($"Storage: http://127.0.0.1:{blobPort}, answering after ", StringComparison.Ordinal));
        Assert.Equal(connection, environment.Settings["AzureWebJobsStorage"]);
        Assert.Null(environment.Azurite);
    }

    private async Task<(ChildProcess Serve, int Port)> StartServeAsync(HttpClient http, Dictionary<string, string> environment)
    {
        var port = FreePort.Next();
        var serve = ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.Local"),
            ["serve", "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--root", _root.FullName], environment);
        await serve.WaitUntilReadyAsync(http, $"http://127.0.0.1:{port}/api/jobs?top=1");
        return (serve, port);
    }

    private static string Executable() =>
        AzuriteProcess.Find(RepoPaths.Root) ?? throw new InvalidOperationException("Run 'npm ci' at the repository root.");

    private static int ReadState(string folder)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, AzuriteProcess.StateFileName)));
        return state.RootElement.GetProperty("ProcessId").GetInt32();
    }

    /// <summary>Whether a process runs (an exited one nobody has reaped yet counts as gone).</summary>
    private static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        try
        {
            var fields = File.ReadAllText(stat);
            return fields[(fields.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static async Task<JsonObject> StatsAsync(HttpClient http, string emulatorUrl) =>
        (await http.GetFromJsonAsync<JsonObject>(new Uri(emulatorUrl + "/emulator/stats")))!;
}
