using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;

namespace ImageJobs.Local.Tests;

/// <summary>
/// <c>serve</c> as a real process, SIGKILLed with 50 jobs in flight and started again: every job completes, the
/// provider saw 50 paid submissions (plus at most one for each submit a kill cut mid-call), and every image blob was
/// written once. The emulator is its own process too, so its counters outlive the crash.
/// </summary>
public sealed class CrashTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Jobs = 50;
    private const string FunctionKey = "crash-test-key";
    private static readonly string[] Models = ["qwen-image", "qwen-image-plus", "wanx-v1"];

    [Fact]
    public async Task Serve_KilledWithJobsInFlight_RestartsAndCompletesEveryJob_PayingAgainOnlyForSubmitsCutMidCall()
    {
        var apiKey = "sk-crash-" + Guid.NewGuid().ToString("N");
        var emulatorPort = FreePort.Next();
        var emulatorUrl = $"http://127.0.0.1:{emulatorPort}";
        using var emulator = ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.DashScope.Emulator"),
            ["--urls", emulatorUrl, "--api-key", apiKey, "--time-scale", "0.25", "--seed", "5", "--limit-scale", "50"],
            new Dictionary<string, string>());
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await emulator.WaitUntilReadyAsync(plain, emulatorUrl + "/emulator/stats");

        var environment = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["DashScope__Endpoint"] = emulatorUrl + "/api/v1/",
            ["DashScope__ApiKey"] = apiKey,
            ["ImageJobs__ResultHosts__0"] = $"127.0.0.1:{emulatorPort}",
            ["ImageJobs__Outbound__AllowedHosts__0"] = $"127.0.0.1:{emulatorPort}",
            ["ImageJobs__ExpectedDurationScale"] = "0.25",
            ["IMAGEJOBS_FUNCTION_KEY"] = FunctionKey,
            ["AzureFunctionsJobHost__extensions__durableTask__hubName"] = "Crash" + Guid.NewGuid().ToString("N")[..12],
            ["AzureFunctionsJobHost__extensions__queues__maxPollingInterval"] = "00:00:01",
        };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);

        // First life: start every job, then SIGKILL once some are paid for and none can have finished everything.
        var servePort = FreePort.Next();
        var serve = StartServe(servePort, environment);
        await serve.WaitUntilReadyAsync(http, $"http://127.0.0.1:{servePort}/api/jobs?top=1");
        var ids = Enumerable.Range(0, Jobs).Select(i => $"crash-{i:D2}-{Guid.NewGuid():N}").ToList();
        await Task.WhenAll(ids.Select(async (id, i) =>
        {
            var job = new JsonObject
            {
                ["jobId"] = id,
                ["model"] = Models[i % Models.Length],
                ["input"] = new JsonObject { ["prompt"] = $"picture {i}" },
                ["parameters"] = Models[i % Models.Length] == "wanx-v1" ? new JsonObject { ["n"] = 1 } : new JsonObject(),
            };
            using var response = await http.PostAsync(new Uri($"http://127.0.0.1:{servePort}/api/jobs"), JsonContent.Create(job));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }));
        await Eventually.GetAsync(async () => (await StatsAsync(plain, emulatorUrl))["accepted"]!.GetValue<int>() >= Jobs / 3 ? "" : null,
            "a third of the jobs to be submitted before the crash");
        var beforeKill = await StatsAsync(plain, emulatorUrl);
        serve.Kill();
        var firstLife = serve.Output;
        serve.Dispose();
        var completedBeforeKill = await CountCompletedAsync(azurite, ids);
        output.WriteLine($"Killed with {beforeKill["accepted"]} submissions accepted and {completedBeforeKill} jobs complete.");
        Assert.True(completedBeforeKill < Jobs, "Every job finished before the crash; the test proves nothing.");

        // Second life: the task hub hands every unfinished job to the new process; kill it again once some jobs are storing their images.
        servePort = FreePort.Next();
        var second = StartServe(servePort, environment);
        await second.WaitUntilReadyAsync(http, $"http://127.0.0.1:{servePort}/api/jobs?top=1");
        await Eventually.GetAsync(async () => await CountCompletedAsync(azurite, ids) >= 3 ? "" : null, "three jobs to complete in the second life",
            TimeSpan.FromMinutes(2));
        second.Kill();
        var secondLife = second.Output;
        second.Dispose();
        var completedBeforeSecondKill = await CountCompletedAsync(azurite, ids);
        output.WriteLine($"Killed again with {completedBeforeSecondKill} jobs complete.");
        Assert.True(completedBeforeSecondKill < Jobs, "Every job finished before the second crash.");

        // Third life: everything completes.
        servePort = FreePort.Next();
        using var restarted = StartServe(servePort, environment);
        await restarted.WaitUntilReadyAsync(http, $"http://127.0.0.1:{servePort}/api/jobs?top=1");
        foreach (var id in ids)
        {
            var status = await Eventually.GetAsync(async () =>
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{servePort}/api/jobs/{id}"));
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
            }, $"job {id} to complete after the restart (accepted before the kill: {beforeKill["accepted"]})", TimeSpan.FromMinutes(2));
            Assert.Equal("Completed", status!["runtimeStatus"]!.GetValue<string>());
            Assert.Equal("Succeeded", status["output"]!["status"]!.GetValue<string>());
        }

        var stats = await StatsAsync(plain, emulatorUrl);
        output.WriteLine($"After the restart: {stats.ToJsonString()}");
        output.WriteLine(restarted.Output);
        // One paid submission per job, except where a kill cut a submit between the provider's answer and the record of
        // its task id: such a job submits again, and says so (the only way to pay twice; DashScope has no idempotency key).
        var resubmitted = UnconfirmedSubmits.In(firstLife + secondLife + restarted.Output);
        output.WriteLine($"Jobs that submitted again over an intent a kill left unconfirmed: {resubmitted.Count} ({string.Join(", ", resubmitted)}).");
        Assert.InRange(stats["accepted"]!.GetValue<int>(), Jobs, Jobs + resubmitted.Count);

        // Every image blob complete and written once.
        var images = await ResultBlobs.AssertEachCompleteAndWrittenOnceAsync(
            new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("results"), "crash-");
        Assert.Equal(Jobs, images);
        Assert.DoesNotContain(apiKey, firstLife + secondLife + restarted.Output + emulator.Output, StringComparison.Ordinal);

        // Every job told the completion queue (at least once: a crash between the send and its marker may repeat it).
        var completions = new CompletionQueueReader(new Azure.Storage.Queues.QueueServiceClient(azurite.ConnectionString).GetQueueClient("image-jobs-completed"));
        await completions.DrainAsync();
        Assert.All(ids, id => Assert.NotEmpty(completions.For(id)));
    }

    private static ChildProcess StartServe(int port, Dictionary<string, string> environment) =>
        ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.Local"),
            ["serve", "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--root", RepoPaths.Root], environment);

    private static async Task<JsonObject> StatsAsync(HttpClient http, string emulatorUrl) =>
        (await http.GetFromJsonAsync<JsonObject>(new Uri(emulatorUrl + "/emulator/stats")))!;

    private static async Task<int> CountCompletedAsync(AzuriteFixture azurite, IEnumerable<string> ids)
    {
        var results = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("results");
        if (!(await results.ExistsAsync()).Value)
        {
            return 0;
        }

        // One listing, not one request per job: on a loaded machine 50 round trips took long enough for every job to
        // finish between two counts, and the second kill then came too late to prove anything.
        var manifests = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var blob in results.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = "crash-" }))
        {
            if (blob.Name.EndsWith("/manifest.json", StringComparison.Ordinal))
            {
                manifests.Add(blob.Name);
            }
        }

        return ids.Count(id => manifests.Contains($"{id}/manifest.json"));
    }
}
