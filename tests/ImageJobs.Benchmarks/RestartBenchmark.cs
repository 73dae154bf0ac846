using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImageJobs.Testing;

namespace ImageJobs.Benchmarks;

/// <summary>
/// <c>restart</c>: <c>serve</c> as a real process with nothing configured (its own Azurite in <c>.azurite/</c>, the
/// embedded emulator in <c>.emulator/</c>, in a fresh app root), N jobs posted and submitted, then SIGKILL (or SIGTERM,
/// timing the stop) and <c>serve</c> started again on the same root. Reports how many completed, how many tasks the
/// provider ran (paid), the time from the restart to the first status query the provider sees (the first resumed
/// poll), and to the last job done.
/// </summary>
internal static partial class RestartBenchmark
{
    private const string FunctionKey = "restart-benchmark-key";
    private static readonly string[] Models = ["qwen-image", "qwen-image-plus", "wanx-v1"];

    public static async Task<int> RunAsync(BenchmarkArgs args)
    {
        var jobs = args.GetInt("jobs", 50);
        var signal = args.Get("signal", "kill") == "term" ? 15 : 9;
        var timeScale = args.GetDouble("time-scale", 0.25);
        var root = Directory.CreateTempSubdirectory("imagejobs-restart-bench-");
        File.Copy(RepoPaths.Combine("host.json"), Path.Combine(root.FullName, "host.json"));
        var url = $"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        using var http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
        var report = new Report("restart");
        try
        {
            string emulator;
            var ids = Enumerable.Range(0, jobs).Select(i => string.Create(CultureInfo.InvariantCulture, $"restart-{i:D3}")).ToList();
            using (var first = Serve.Start(url, root.FullName, timeScale))
            {
                await first.WaitUntilReadyAsync(http);
                emulator = EmulatorRoot().Match(first.Output).Groups["root"].Value;
                await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
                {
                    using var posted = await http.PostAsJsonAsync("api/jobs", new JsonObject
                    {
                        ["jobId"] = id,
                        ["model"] = Models[int.Parse(id[^3..], CultureInfo.InvariantCulture) % Models.Length],
                        ["input"] = new JsonObject { ["prompt"] = "a lighthouse" },
                    }, ct);
                    posted.EnsureSuccessStatusCode();
                });
                var clock = Stopwatch.StartNew();
                while (await ProviderTasksAsync(emulator) < jobs && clock.Elapsed < TimeSpan.FromMinutes(5))
                {
                    await Task.Delay(200);
                }

                report.Add("submitted_before_stop", await ProviderTasksAsync(emulator), "", $"{jobs}");
                var stop = Stopwatch.StartNew();
                first.Signal(signal);
                first.Process.WaitForExit();
                report.Add(signal == 9 ? "stop" : "stop_s", signal == 9 ? "SIGKILL" : stop.Elapsed.TotalSeconds, signal == 9 ? "" : "s", signal == 9 ? null : "<= 2 s");
            }

            var restart = Stopwatch.StartNew();
            using var second = Serve.Start(url, root.FullName, timeScale);
            var baseline = -1;
            double firstPoll = double.NaN;
            while (restart.Elapsed < TimeSpan.FromMinutes(2) && double.IsNaN(firstPoll))
            {
                try
                {
                    var queries = (int)(await http.GetFromJsonAsync<JsonObject>($"{emulator}/emulator/stats"))!["queries"]!;
                    if (baseline < 0)
                    {
                        baseline = queries;
                    }
                    else if (queries > baseline)
                    {
                        firstPoll = restart.Elapsed.TotalSeconds;
                    }
                }
                catch (HttpRequestException)
                {
                    // not up yet
                }

                await Task.Delay(50);
            }

            await second.WaitUntilReadyAsync(http);
            report.Add("listening_after_restart_s", restart.Elapsed.TotalSeconds, "s");
            report.Add("first_resumed_poll_s", firstPoll, "s", "restart -> the first status query the provider sees");
            var completed = 0;
            while (restart.Elapsed < TimeSpan.FromMinutes(10))
            {
                completed = 0;
                foreach (var id in ids)
                {
                    using var response = await http.GetAsync($"api/jobs/{id}");
                    if (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonObject>())?["output"]?["status"]?.GetValue<string>() == "Succeeded")
                    {
                        completed++;
                    }
                }

                if (completed == jobs)
                {
                    break;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {restart.Elapsed.TotalSeconds,6:F1}s after the restart: {completed}/{jobs} succeeded"));
                await Task.Delay(1000);
            }

            report.Add("all_done_after_restart_s", restart.Elapsed.TotalSeconds, "s");
            report.Add("succeeded", completed, "", $"{jobs}");
            report.Add("paid", await ProviderTasksAsync(emulator), "", $"{jobs} (one task per job)");
            second.Signal(15);
            second.Process.WaitForExit(TimeSpan.FromSeconds(30));
        }
        finally
        {
            try
            {
                root.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }

        report.Print();
        return 0;
    }

    private static async Task<int> ProviderTasksAsync(string emulatorRoot)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-emulator");
        return (int)(await http.GetFromJsonAsync<JsonObject>($"{emulatorRoot}/api/v1/tasks?page_size=1"))!["total"]!;
    }

    [GeneratedRegex(@"using the embedded emulator at (?<root>http://127\.0\.0\.1:[0-9]+)/")]
    private static partial Regex EmulatorRoot();

    // serve, run from the benchmark's own output folder (the local host's assembly is copied there).
    private sealed class Serve : IDisposable
    {
        private readonly System.Text.StringBuilder _output = new();

        private Serve(Process process) => Process = process;

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static Serve Start(string url, string root, double timeScale)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "ImageJobs.Local.dll"), "serve", "--urls", url, "--root", root })
            {
                psi.ArgumentList.Add(argument);
            }

            psi.Environment["IMAGEJOBS_FUNCTION_KEY"] = FunctionKey;
            psi.Environment["DashScopeEmulator__TimeScale"] = timeScale.ToString(CultureInfo.InvariantCulture);
            psi.Environment["DashScopeEmulator__LimitScale"] = "50";
            var serve = new Serve(Process.Start(psi)!);
            serve.Process.OutputDataReceived += (_, e) => serve.Append(e.Data);
            serve.Process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
            serve.Process.BeginOutputReadLine();
            serve.Process.BeginErrorReadLine();
            return serve;
        }

        public async Task WaitUntilReadyAsync(HttpClient http)
        {
            for (var deadline = DateTime.UtcNow.AddMinutes(2); ; await Task.Delay(200))
            {
                if (Process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"serve is not answering:\n{Output}");
                }

                try
                {
                    using var response = await http.GetAsync("api/jobs?top=1");
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
            }
        }

        public void Signal(int signal) => _ = Kill(Process.Id, signal);

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
        private static extern int Kill(int pid, int signal);
    }
}
