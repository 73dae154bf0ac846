using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local.Tests;

/// <summary>
/// A restart loses nothing: the local app stopped and started again on the same app root (its own Azurite persisted in
/// <c>.azurite/</c>, the embedded emulator) answers for the jobs of its first life as before.
/// </summary>
public sealed class RestartTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string FunctionKey = "restart-tests-key";
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("imagejobs-restart-");

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

    // The provider keeps an input over its table's size limit in a blob and records the blob's URL, which names the
    // Azurite port of the day it was written: on new ports it was returned as the input and GET answered 500
    // ("'h' is an invalid start of a value").
    [Fact]
    public async Task GetAndDelete_JobWithLargeDataUriInputAfterRestart_AnswerWithItsInput()
    {
        File.Copy(RepoPaths.Combine("host.json"), Path.Combine(_root.FullName, "host.json"));
        var jobId = $"restart-datauri-{Guid.NewGuid():N}";
        var dataUri = "data:image/png;base64," + Convert.ToBase64String(NoisyPng(512, 512));
        Assert.True(dataUri.Length > 256 * 1024, "The input must be too large for the provider's instance table.");
        var job = new JsonObject
        {
            ["jobId"] = jobId,
            ["model"] = "wanx2.1-imageedit",
            ["input"] = new JsonObject { ["function"] = "stylization_all", ["prompt"] = "ink", ["base_image_url"] = dataUri },
            ["parameters"] = new JsonObject { ["n"] = 1 },
        };

        await using (var first = await RunningApp.StartAsync(_root.FullName))
        {
            using var posted = await first.Http.PostAsync("api/jobs", JsonContent.Create(job));
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            var done = await Eventually.GetAsync(async () =>
            {
                using var response = await first.Http.GetAsync($"api/jobs/{jobId}");
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
            }, $"job {jobId} to complete in the first life", TimeSpan.FromMinutes(2));
            Assert.Equal(dataUri, done!["input"]!["input"]!["base_image_url"]!.GetValue<string>());
        }

        await using var second = await RunningApp.StartAsync(_root.FullName);
        using (var response = await second.Http.GetAsync($"api/jobs/{jobId}"))
        {
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine(string.Join(Environment.NewLine, second.Environment.Notes));
            Assert.True(response.StatusCode == HttpStatusCode.OK,
                $"GET after the restart answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 2000)]}\n{second.Errors}");
            Assert.Equal(dataUri, JsonNode.Parse(body)!["input"]!["input"]!["base_image_url"]!.GetValue<string>());
        }

        using (var deleted = await second.Http.DeleteAsync($"api/jobs/{jobId}?deleteResults=true"))
        {
            var body = await deleted.Content.ReadAsStringAsync();
            Assert.True(deleted.StatusCode == HttpStatusCode.OK,
                $"DELETE after the restart answered {(int)deleted.StatusCode}: {body[..Math.Min(body.Length, 2000)]}\n{second.Errors}");
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task FunctionKey_NoneConfigured_TwoStartsOnOneRootTakeTheKeptKeyOwnerOnly()
    {
        File.Copy(RepoPaths.Combine("host.json"), Path.Combine(_root.FullName, "host.json"));
        var file = LocalFunctionKey.PathFor(_root.FullName);
        string key;
        await using (var first = await RunningApp.StartAsync(_root.FullName, functionKey: null))
        {
            Assert.True(File.Exists(file), $"No key kept in {file}.");
            key = File.ReadAllText(file).Trim();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Contains(first.Logs, line => line.Contains($"Function key: {key} (kept in {file}", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.OK, await ListStatusAsync(first, key));
            Assert.Equal(HttpStatusCode.Unauthorized, await ListStatusAsync(first, "not-the-key"));
        }

        await using var second = await RunningApp.StartAsync(_root.FullName, functionKey: null);

        Assert.Equal(key, File.ReadAllText(file).Trim());
        Assert.Equal(HttpStatusCode.OK, await ListStatusAsync(second, key));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    private static async Task<HttpStatusCode> ListStatusAsync(RunningApp app, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/jobs?top=1");
        request.Headers.Add("x-functions-key", key);
        using var response = await app.Http.SendAsync(request);
        return response.StatusCode;
    }

    // Random pixels: a PNG that does not compress, so its data URI is as large as its pixels.
    private static byte[] NoisyPng(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        new Random(22).NextBytes(rgb);
        return PngEncoder.Encode(width, height, rgb);
    }

    /// <summary>The local app as <c>serve</c> runs it on an app root: its own persisted Azurite and the embedded emulator.</summary>
    private sealed class RunningApp : IAsyncDisposable
    {
        private readonly CapturingLoggerProvider _logs;

        private RunningApp(WebApplication app, LocalEnvironment environment, CapturingLoggerProvider logs, string? functionKey)
        {
            App = app;
            Environment = environment;
            _logs = logs;
            Http = new HttpClient { BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
            if (functionKey is not null)
            {
                Http.DefaultRequestHeaders.Add("x-functions-key", functionKey);
            }
        }

        public WebApplication App { get; }

        public LocalEnvironment Environment { get; }

        public HttpClient Http { get; }

        /// <summary>The error lines logged so far (for a failure's message).</summary>
        public string Errors => string.Join(System.Environment.NewLine, _logs.Entries.Where(e => e.StartsWith("Error", StringComparison.Ordinal)));

        /// <summary>Every log line so far.</summary>
        public IReadOnlyCollection<string> Logs => _logs.Entries;

        /// <summary>Starts the app; with no <paramref name="functionKey"/> none is configured (an empty setting wins over the environment).</summary>
        public static async Task<RunningApp> StartAsync(string root, string? functionKey = FunctionKey)
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                [LocalApp.FunctionKeySetting] = functionKey ?? string.Empty,
                [$"{DashScopeEmulatorOptions.SectionName}:TimeScale"] = "0.01",
            };

            var logs = new CapturingLoggerProvider();
            var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions
            {
                Root = root,
                Urls = "http://127.0.0.1:0",
                Triggers = false,
                Overrides = overrides,
                ConfigureLogging = logging => logging.ClearProviders().AddProvider(logs),
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

            return new RunningApp(app, environment, logs, functionKey);
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
            await Environment.DisposeAsync();
        }
    }
}
