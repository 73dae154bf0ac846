using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The local twin survives a restart: <c>serve</c> as a real process with nothing configured (its own Azurite in
/// <c>.azurite/</c>, the embedded emulator in <c>.emulator/</c>), SIGKILLed or SIGTERMed while its jobs wait at the
/// provider, then started again on the same app root: every job completes, and the provider ran one task per job.
/// </summary>
public sealed partial class ServeRestartTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 4;
    private const string FunctionKey = "serve-restart-key";
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("imagejobs-serve-restart-");

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

    [Theory]
    [InlineData(9)] // SIGKILL: nothing of serve's shutdown runs
    [InlineData(15)] // SIGTERM: serve stops in order
    public async Task Serve_StoppedWithJobsWaitingAtTheProvider_NextStartOnTheSameRootCompletesThemPayingOnce(int signal)
    {
        File.Copy(RepoPaths.Combine("host.json"), Path.Combine(_root.FullName, "host.json"));
        var port = FreePort.Next();
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        using var http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);

        // First life: every job submitted and waiting on a task of 7-8 s, then the signal.
        string emulator;
        var ids = Enumerable.Range(0, Jobs).Select(i => $"twin-{i}-{Guid.NewGuid():N}").ToList();
        using (var first = StartServe(url))
        {
            await first.WaitUntilReadyAsync(http, url + "/api/jobs?top=1");
            emulator = EmulatorRoot().Match(first.Output).Groups["root"].Value;
            Assert.False(string.IsNullOrEmpty(emulator), first.Output);
            foreach (var id in ids)
            {
                using var posted = await http.PostAsync("api/jobs", JsonContent.Create(new JsonObject
                {
                    ["jobId"] = id,
                    ["model"] = "qwen-image",
                    ["input"] = new JsonObject { ["prompt"] = "a lighthouse" },
                }));
                Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            }

            foreach (var id in ids)
            {
                await Eventually.GetAsync(async () => (await StatusAsync(http, id))?["customStatus"]?["taskId"] is not null ? "" : null,
                    $"job {id} to be submitted", TimeSpan.FromMinutes(1));
            }

            Assert.Equal(Jobs, await ProviderTasksAsync(emulator));
            first.Signal(signal);
            Assert.True(first.Process.WaitForExit(TimeSpan.FromSeconds(20)), "serve did not end after the signal");
            output.WriteLine($"first life ended with {first.Process.ExitCode} (signal {signal})");
            Assert.All(ids, id => Assert.DoesNotContain($"\"instanceId\":\"{id}\",\"runtimeStatus\":\"Completed\"", first.Output, StringComparison.Ordinal));
        }

        // Second life on the same root: the same ports, the same emulator tasks, the same jobs.
        using var second = StartServe(url);
        await second.WaitUntilReadyAsync(http, url + "/api/jobs?top=1");
        Assert.Contains("read back", second.Output, StringComparison.Ordinal);
        foreach (var id in ids)
        {
            var done = await Eventually.GetAsync(async () => await StatusAsync(http, id) is { } s && (string?)s["runtimeStatus"] == "Completed" ? s : null,
                $"job {id} to complete after the restart", TimeSpan.FromMinutes(2));
            Assert.Equal("Succeeded", (string?)done["output"]!["status"]);
        }

        Assert.Equal(Jobs, await ProviderTasksAsync(emulator));
        second.Terminate();
        second.Process.WaitForExit(TimeSpan.FromSeconds(20));
    }

    private ChildProcess StartServe(string url) =>
        ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.Local"), ["serve", "--urls", url, "--root", _root.FullName],
            new Dictionary<string, string>
            {
                ["IMAGEJOBS_FUNCTION_KEY"] = FunctionKey,
                ["DashScopeEmulator__TimeScale"] = "0.5",
            });

    private static async Task<JsonObject?> StatusAsync(HttpClient http, string id)
    {
        using var response = await http.GetAsync($"api/jobs/{id}");
        return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
    }

    // Every task the emulator has: DashScope's task list, with the key the embedded emulator takes by default.
    private static async Task<int> ProviderTasksAsync(string emulatorRoot)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-emulator");
        var list = await http.GetFromJsonAsync<JsonObject>($"{emulatorRoot}/api/v1/tasks?page_size=100");
        return (int)list!["total"]!;
    }

    [GeneratedRegex(@"using the embedded emulator at (?<root>http://127\.0\.0\.1:[0-9]+)/")]
    private static partial Regex EmulatorRoot();
}
