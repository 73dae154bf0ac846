using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;

namespace ImageJobs.Local.Tests;

/// <summary>
/// Several hosts on one storage account and one task hub, as real processes (like <see cref="CrashTests"/>), with the
/// DashScope emulator as its own process, limits on: three hosts share 60 jobs and one is SIGKILLed while they run;
/// three instances submit 30 jobs of one model at once within its rate; two instances of <c>serve --instances 2</c>
/// scan one uploads container; <c>serve --instances 3</c> reports a dead child and stops every instance on SIGTERM.
/// Times (takeover, completion) are printed, never asserted.
/// </summary>
public sealed partial class ScaleOutTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string FunctionKey = "scale-out-test-key";

    // host.json: extensions.durableTask.storageProvider.partitionCount.
    private const int PartitionCount = 4;

    private static readonly string[] Models = ["qwen-image", "qwen-image-plus", "wanx-v1"];

    [Fact]
    public async Task ThreeHosts_OneKilledWithJobsInFlight_SurvivorsCompleteEveryJobOnce()
    {
        const int Jobs = 60;
        using var emulator = await EmulatorProcess.StartAsync(limitScale: 2);
        var hub = "ScaleOut" + Guid.NewGuid().ToString("N")[..12];
        var environment = Environment(hub, emulator);
        using var http = Http();

        var ports = Enumerable.Range(0, 3).Select(_ => FreePort.Next()).ToList();
        var hosts = ports.Select(port => StartServe(["--urls", Url(port)], environment)).ToList();
        try
        {
            await Task.WhenAll(hosts.Select((host, i) => host.WaitUntilReadyAsync(http, Url(ports[i]) + "/api/jobs?top=1")));
            var workers = hosts.Select(WorkerId).ToList();

            // Scale-out first: each host holds at least one of the four partition leases before any job is posted.
            var owners = await Eventually.GetAsync(async () =>
            {
                var now = await PartitionOwnersAsync(hub);
                return workers.All(w => now.ContainsValue(w)) ? now : null;
            }, "each of the three hosts to hold a partition lease", TimeSpan.FromMinutes(3));
            output.WriteLine($"Partition owners before the jobs: {Describe(owners, workers)}");

            // 60 jobs: models round-robin, and every three jobs to the next host, so each host takes every model.
            var ids = Enumerable.Range(0, Jobs).Select(i => $"scale-{i:D2}-{Guid.NewGuid():N}").ToList();
            await Task.WhenAll(ids.Select(async (id, i) =>
            {
                var model = Models[i % Models.Length];
                using var response = await http.PostAsync(new Uri($"{Url(ports[i / Models.Length % hosts.Count])}/api/jobs"), JsonContent.Create(Job(id, model)));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }));
            await Eventually.GetAsync(async () => (await emulator.StatsAsync())["accepted"]!.GetValue<int>() >= Jobs / 3 ? "" : null,
                "a third of the jobs to be submitted before the kill", TimeSpan.FromMinutes(3));

            // Kill the host holding the most partitions.
            owners = await PartitionOwnersAsync(hub);
            var victimIndex = Enumerable.Range(0, hosts.Count).MaxBy(i => owners.Count(o => o.Value == workers[i]));
            var victim = hosts[victimIndex];
            var deadWorker = workers[victimIndex];
            var deadPartitions = owners.Where(o => o.Value == deadWorker).Select(o => o.Key).ToHashSet();
            var beforeKill = await emulator.StatsAsync();
            victim.Kill();
            var clock = Stopwatch.StartNew();
            var killedAt = DateTimeOffset.UtcNow;
            var victimOutput = victim.Output;
            var survivors = Enumerable.Range(0, hosts.Count).Where(i => i != victimIndex).ToList();

            var atKill = await InstancesAsync(hub);
            var completedAtKill = ids.Count(id => atKill.TryGetValue(id, out var row) && row.Status == "Completed");
            var orphans = ids.Where(id => !(atKill.TryGetValue(id, out var row) && row.Status == "Completed") && deadPartitions.Contains(PartitionOf(id))).ToList();
            output.WriteLine($"Killed host {victimIndex + 1} ({deadWorker}, partitions {string.Join(",", deadPartitions.Order())}) with "
                + $"{beforeKill["accepted"]} submissions accepted and {completedAtKill} of {Jobs} jobs complete; {orphans.Count} unfinished jobs live in its partitions.");
            Assert.True(completedAtKill < Jobs, "Every job finished before the kill; the test proves nothing.");
            Assert.True(orphans.Count > 0, "No unfinished job lived in the killed host's partitions; the takeover is not exercised.");

            // The survivors take over: the dead host's partition leases, then the next step of its jobs, then everything.
            TimeSpan? firstPartitionMoved = null, partitionsMoved = null, firstResumed = null, orphansDone = null;
            var all = await Eventually.GetAsync(async () =>
            {
                if (partitionsMoved is null)
                {
                    var now = await PartitionOwnersAsync(hub);
                    if (firstPartitionMoved is null && deadPartitions.Any(p => now.TryGetValue(p, out var owner) && survivors.Any(s => workers[s] == owner)))
                    {
                        firstPartitionMoved = clock.Elapsed;
                    }

                    if (deadPartitions.All(p => now.TryGetValue(p, out var owner) && survivors.Any(s => workers[s] == owner)))
                    {
                        partitionsMoved = clock.Elapsed;
                        output.WriteLine($"{partitionsMoved.Value.TotalSeconds:0.0} s: partitions {Describe(now, workers)}");
                    }
                }

                var rows = await InstancesAsync(hub);
                if (firstResumed is null && orphans.Any(id => rows.TryGetValue(id, out var row) && row.LastUpdated > killedAt))
                {
                    firstResumed = clock.Elapsed;
                }

                if (orphansDone is null && orphans.All(id => rows.TryGetValue(id, out var row) && row.Status is "Completed" or "Failed" or "Terminated"))
                {
                    orphansDone = clock.Elapsed;
                }

                return ids.All(id => rows.TryGetValue(id, out var row) && row.Status is "Completed" or "Failed" or "Terminated") ? rows : null;
            }, "every job to end after the kill", TimeSpan.FromMinutes(6));
            var allDone = clock.Elapsed;
            output.WriteLine($"{allDone.TotalSeconds:0.0} s: partitions {Describe(await PartitionOwnersAsync(hub), workers)}");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"After the SIGKILL: its first partition lease held by a survivor at {firstPartitionMoved?.TotalSeconds:0.0} s, all of them at "
                + $"{partitionsMoved?.TotalSeconds:0.0} s; first orchestration step of one of "
                + $"its {orphans.Count} unfinished jobs at {firstResumed?.TotalSeconds:0.0} s; all of them done at {orphansDone?.TotalSeconds:0.0} s; "
                + $"all {Jobs} jobs done at {allDone.TotalSeconds:0.0} s."));

            // The status API of a survivor: every job completed and succeeded.
            var survivorUrl = Url(ports[survivors[0]]);
            foreach (var id in ids)
            {
                var status = await http.GetFromJsonAsync<JsonObject>(new Uri($"{survivorUrl}/api/jobs/{id}"));
                Assert.True(status!["runtimeStatus"]!.GetValue<string>() == "Completed" && status["output"]?["status"]?.GetValue<string>() == "Succeeded",
                    $"{id}: {status.ToJsonString()}");
            }

            // One paid submission per job, though three processes paced separately and one died mid-way.
            var stats = await emulator.StatsAsync();
            output.WriteLine($"Emulator: submissions {stats["submissions"]}, accepted {stats["accepted"]}, throttled {stats["throttled"]} "
                + $"{stats["throttled_by_kind"]!.ToJsonString()}, queries {stats["queries"]}, list calls {stats["list_calls"]}.");
            var resubmitted = UnconfirmedSubmits.In(victimOutput + string.Concat(hosts.Select(h => h.Output)));
            output.WriteLine($"Jobs that submitted again over an intent the kill left unconfirmed: {resubmitted.Count}.");
            Assert.InRange(stats["accepted"]!.GetValue<int>(), Jobs, Jobs + resubmitted.Count);

            // The three hosts paced their submits and queries through one set of shared lanes: nothing was throttled.
            Assert.Equal(0, stats["throttled"]!.GetValue<int>());

            // Every image blob complete and written once.
            var images = await ResultBlobs.AssertEachCompleteAndWrittenOnceAsync(
                new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("results"), "scale-");
            Assert.Equal(Jobs, images);

            // One completion message per job, none twice.
            var completions = new CompletionQueueReader(new QueueServiceClient(azurite.ConnectionString).GetQueueClient(new ImageJobsOptions().CompletionQueue));
            await completions.DrainAsync();
            var repeated = ids.Where(id => completions.For(id).Count != 1)
                .Select(id => $"{id} ×{completions.For(id).Count} (partition {PartitionOf(id)}{(orphans.Contains(id) ? ", unfinished in the killed host's partition" : "")})")
                .ToList();
            Assert.True(repeated.Count == 0, $"Completion messages not exactly once: {string.Join("; ", repeated)}");
            Assert.Equal(Jobs, ids.Sum(id => completions.For(id).Count));

            foreach (var i in survivors)
            {
                output.WriteLine($"Host {i + 1} warnings and errors:\n{Problems(hosts[i].Output)}");
            }

            Assert.DoesNotContain(emulator.ApiKey, victimOutput + string.Concat(hosts.Select(h => h.Output)), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var (host, i) in hosts.Select((h, i) => (h, i)))
            {
                host.Dispose();
                KeepLog($"{hub}-host{i + 1}", host.Output);
            }
        }
    }

    [Fact]
    public async Task ThreeInstances_ThirtyJobsOfOneModelAtOnce_SubmitWithinTheModelsRate()
    {
        // The emulator at the documented limits: qwen-image takes 2 submits per second. Each instance alone would pace
        // itself at 1.6/s; three would send 4.8/s if they did not share their lanes.
        const int Jobs = 30;
        using var emulator = await EmulatorProcess.StartAsync(limitScale: 1);
        var environment = Environment("Pacing" + Guid.NewGuid().ToString("N")[..12], emulator);
        using var http = Http();
        var (serve, port, children) = await StartInstancesAsync(3, environment, http);
        using var _ = serve;
        try
        {

            // 30 jobs within a second, round-robin over the three instances.
            var posting = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Jobs).Select(async i =>
            {
                using var response = await http.PostAsync(new Uri($"{Url(port + (i % 3))}/api/jobs"), JsonContent.Create(Job($"pacing-{i:D2}-{Guid.NewGuid():N}", "qwen-image")));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }));
            output.WriteLine($"Posted {Jobs} jobs in {posting.Elapsed.TotalSeconds:0.00} s.");

            var stats = await Eventually.GetAsync(async () => await emulator.StatsAsync() is var now && now["accepted"]!.GetValue<int>() >= Jobs ? now : null,
                "every job to be submitted", TimeSpan.FromMinutes(3));
            output.WriteLine($"Emulator: submissions {stats["submissions"]}, accepted {stats["accepted"]}, throttled {stats["throttled"]} "
                + $"{stats["throttled_by_kind"]!.ToJsonString()}, queries {stats["queries"]}.");
            Assert.Equal(0, stats["throttled"]!.GetValue<int>());
            Assert.Equal(Jobs, stats["accepted"]!.GetValue<int>());

            // The provider's own record of when each task was created: no one-second window holds more than 2.
            using var list = new HttpRequestMessage(HttpMethod.Get, new Uri($"{emulator.Url}/api/v1/tasks?model_name=qwen-image&page_size=100"));
            list.Headers.Authorization = new("Bearer", emulator.ApiKey);
            using var listed = await http.SendAsync(list);
            var created = (await listed.Content.ReadFromJsonAsync<JsonObject>())!["data"]!.AsArray()
                .Select(t => t!["gmt_create"]!.GetValue<long>()).Order().ToList();
            Assert.Equal(Jobs, created.Count);
            var busiest = created.Max(start => created.Count(c => c >= start && c < start + 1000));
            output.WriteLine($"Submits accepted over {(created[^1] - created[0]) / 1000.0:0.0} s; the busiest second held {busiest}.");
            Assert.True(busiest <= 2, $"A one-second window held {busiest} submits.");
            Assert.DoesNotContain(emulator.ApiKey, serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            children.ForEach(ChildProcess.KillProcess);
        }
    }

    [Fact]
    public async Task TwoInstances_ScanningOneUploadsContainer_StartEachUploadOnce()
    {
        const int Uploads = 20;
        using var emulator = await EmulatorProcess.StartAsync(limitScale: 5);
        var environment = Environment("Uploads" + Guid.NewGuid().ToString("N")[..12], emulator);
        using var http = Http();
        var (serve, port, pids) = await StartInstancesAsync(2, environment, http);
        using var _ = serve;
        try
        {

            // Twenty uploads at once, and two that cannot become jobs (their parameters are not JSON).
            var uploads = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
            await uploads.CreateIfNotExistsAsync();
            var run = Guid.NewGuid().ToString("N")[..8];
            var good = Enumerable.Range(0, Uploads).Select(i => $"stylization_all/scale-{run}-{i:D2}.png").ToList();
            var bad = Enumerable.Range(0, 2).Select(i => $"stylization_all/scale-{run}-bad-{i}.png").ToList();
            await Task.WhenAll(good.Select(name => uploads.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
                    new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = "ink" } }))
                .Concat(bad.Select(name => uploads.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
                    new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = "ink", ["parameters"] = Uri.EscapeDataString("{n:1") } }))));

            // One receipt per upload, naming the job its name and ETag make.
            var state = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(new ImageJobsOptions().StateContainer);
            var receipts = await Eventually.GetAsync(async () =>
            {
                var found = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
                await foreach (var item in state.GetBlobsAsync(new GetBlobsOptions { Prefix = "uploads/" }))
                {
                    var receipt = JsonNode.Parse((await state.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString())!.AsObject();
                    if (receipt["blob"]!.GetValue<string>().Contains(run, StringComparison.Ordinal))
                    {
                        found.Add(receipt["blob"]!.GetValue<string>(), receipt);
                    }
                }

                return found.Count == good.Count + bad.Count ? found : null;
            }, "a receipt for every upload", TimeSpan.FromMinutes(2));

            // (The ETag as the scanner's listing gives it.)
            var etags = new Dictionary<string, string>(StringComparer.Ordinal);
            await foreach (var item in uploads.GetBlobsAsync(new GetBlobsOptions { Prefix = $"stylization_all/scale-{run}-" }))
            {
                etags[item.Name] = item.Properties.ETag?.ToString() ?? "";
            }

            var jobs = new List<string>();
            foreach (var name in good)
            {
                Assert.Equal(JobIntake.UploadJobId(name, etags[name]), receipts[name]["jobId"]?.GetValue<string>());
                jobs.Add(receipts[name]["jobId"]!.GetValue<string>());
            }

            Assert.All(bad, name => Assert.NotNull(receipts[name]["error"]));

            // Each job completes, seen from either instance.
            foreach (var (id, i) in jobs.Select((id, i) => (id, i)))
            {
                var status = await Eventually.GetAsync(async () =>
                {
                    var found = await http.GetFromJsonAsync<JsonObject>(new Uri($"{Url(port + (i % 2))}/api/jobs/{id}"));
                    return found!["runtimeStatus"]!.GetValue<string>() is "Completed" or "Failed" or "Terminated" ? found : null;
                }, $"upload job {id} to end", TimeSpan.FromMinutes(3));
                Assert.True(status["output"]?["status"]?.GetValue<string>() == "Succeeded", $"{id}: {status.ToJsonString()}");
            }

            // Exactly one job and one paid submission per upload, one completion message each, and one poison record
            // per refused upload, though both instances saw every blob.
            var stats = await emulator.StatsAsync();
            output.WriteLine($"Emulator: accepted {stats["accepted"]}, throttled {stats["throttled"]} {stats["throttled_by_kind"]!.ToJsonString()}.");
            Assert.Equal(Uploads, stats["accepted"]!.GetValue<int>());
            var instances = await InstancesAsync(environment["AzureFunctionsJobHost__extensions__durableTask__hubName"]);
            Assert.Equal(jobs.Order(), instances.Keys.Where(k => k.StartsWith("upload-", StringComparison.Ordinal)).Order());

            var completions = new CompletionQueueReader(new QueueServiceClient(azurite.ConnectionString).GetQueueClient(new ImageJobsOptions().CompletionQueue));
            await completions.DrainAsync();
            Assert.All(jobs, id => Assert.Single(completions.For(id)));

            var poison = new QueueServiceClient(azurite.ConnectionString).GetQueueClient(ImageJobsOptions.PoisonQueue);
            var records = (await poison.PeekMessagesAsync(32)).Value.Select(m => JsonNode.Parse(m.Body.ToString())!["blob"]?.GetValue<string>()).ToList();
            Assert.All(bad, name => Assert.Single(records, r => r == $"{ImageJobsOptions.UploadsContainer}/{name}"));

            // Who started what: a job both instances logged as started was a true race, which the task hub settled.
            var started = StartedLines().Matches(serve.Output).Select(m => (Instance: m.Groups["instance"].Success ? m.Groups["instance"].Value : "1", Blob: m.Groups["blob"].Value))
                .Where(s => s.Blob.Contains(run, StringComparison.Ordinal)).ToList();
            Assert.All(good, name => Assert.Contains(started, s => s.Blob == name));
            output.WriteLine($"'started' log lines: instance 1 {started.Count(s => s.Instance == "1")}, instance 2 {started.Count(s => s.Instance == "2")}; "
                + $"uploads both instances started: {started.GroupBy(s => s.Blob).Count(g => g.Select(s => s.Instance).Distinct().Count() > 1)}.");
            output.WriteLine($"Warnings and errors:\n{Problems(serve.Output)}");
            Assert.DoesNotContain(emulator.ApiKey, serve.Output, StringComparison.Ordinal);

            // SIGKILL the first instance only: the second one notices its parent is gone and stops by itself.
            var clock = Stopwatch.StartNew();
            serve.Kill(entireProcessTree: false);
            await Eventually.GetAsync(() => ChildProcess.IsRunning(pids[0]) ? null : "", "instance 2 to stop after instance 1 was killed", TimeSpan.FromMinutes(1));
            output.WriteLine($"Instance 2 stopped {clock.Elapsed.TotalSeconds:0.0} s after instance 1 was killed.");
        }
        finally
        {
            pids.ForEach(ChildProcess.KillProcess);
        }
    }

    [Fact]
    public async Task ThreeInstances_OneTaskHub_ReportADeadChild_AndStopTogetherOnSigterm()
    {
        using var emulator = await EmulatorProcess.StartAsync(limitScale: 5);
        var environment = Environment("Group" + Guid.NewGuid().ToString("N")[..12], emulator);
        environment.Remove("IMAGEJOBS_FUNCTION_KEY"); // the first instance gives its kept key to all three
        using var plain = Http();
        var port = FreePorts(3);
        using var serve = StartServe(["--instances", "3", "--urls", Url(port)], environment);
        var children = new Dictionary<int, int>();
        try
        {
            var key = await Eventually.GetAsync(() => GeneratedKey().Match(serve.Output) is { Success: true } m ? m.Groups["key"].Value : null,
                "the generated function key", TimeSpan.FromMinutes(2));
            using var http = Http(key);
            await serve.WaitUntilReadyAsync(http, Url(port) + "/api/jobs?top=1");
            foreach (var (number, pid) in await InstancesOfAsync(serve, 3))
            {
                children[number] = pid;
            }

            Assert.Equal([2, 3], children.Keys.Order());
            Assert.Equal(children.Count, children.Values.Distinct().Count());
            foreach (var i in new[] { 1, 2 })
            {
                await serve.WaitUntilReadyAsync(http, Url(port + i) + "/api/jobs?top=1");
            }

            // One task hub: a job posted to instance 3 is there on instance 1, and runs to the end.
            var id = $"group-{Guid.NewGuid():N}";
            using (var response = await http.PostAsync(new Uri($"{Url(port + 2)}/api/jobs"), JsonContent.Create(Job(id, "qwen-image"))))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            var status = await Eventually.GetAsync(async () =>
            {
                using var response = await http.GetAsync(new Uri($"{Url(port)}/api/jobs/{id}"));
                var found = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
                return found?["runtimeStatus"]?.GetValue<string>() is "Completed" or "Failed" ? found : null;
            }, "the job posted to instance 3 to end, seen from instance 1", TimeSpan.FromMinutes(2));
            Assert.Equal("Succeeded", status["output"]?["status"]?.GetValue<string>());

            // A child that dies is reported, not restarted.
            ChildProcess.KillProcess(children[3]);
            await Eventually.GetAsync(() => serve.Output.Contains($"Instance 3 (pid {children[3]}, {Url(port + 2)}) exited with code", StringComparison.Ordinal) ? "" : null,
                "the first instance to report that instance 3 died");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.False(serve.Process.HasExited);
            Assert.True(ChildProcess.IsRunning(children[2]));
            Assert.DoesNotContain("[instance 4]", serve.Output, StringComparison.Ordinal);

            // SIGTERM: the children stop (in order, not killed), then the first instance, which exits 0.
            var clock = Stopwatch.StartNew();
            serve.Terminate();
            Assert.True(await Task.Run(() => serve.Process.WaitForExit(TimeSpan.FromMinutes(2))), $"serve did not stop on SIGTERM:\n{serve.Output}");
            output.WriteLine($"All instances stopped {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM.");
            Assert.Equal(0, serve.Process.ExitCode);
            Assert.False(ChildProcess.IsRunning(children[2]), "Instance 2 outlived the first instance.");
            Assert.Contains("[instance 2] ", serve.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("did not stop within", serve.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Instance 2 (pid", serve.Output, StringComparison.Ordinal); // stopped, not reported dead
            Assert.DoesNotContain(emulator.ApiKey, serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            children.Values.ToList().ForEach(ChildProcess.KillProcess);
        }
    }

    // `serve --instances count` on consecutive free ports, once every instance answers; the children's pids.
    private static async Task<(ChildProcess Serve, int Port, List<int> Children)> StartInstancesAsync(
        int count, Dictionary<string, string> environment, HttpClient http)
    {
        var port = FreePorts(count);
        var serve = StartServe(["--instances", count.ToString(CultureInfo.InvariantCulture), "--urls", Url(port)], environment);
        var children = new List<int>();
        try
        {
            await serve.WaitUntilReadyAsync(http, Url(port) + "/api/jobs?top=1");
            children.AddRange((await InstancesOfAsync(serve, count)).Values);
            for (var i = 1; i < count; i++)
            {
                await serve.WaitUntilReadyAsync(http, Url(port + i) + "/api/jobs?top=1");
            }

            return (serve, port, children);
        }
        catch
        {
            children.ForEach(ChildProcess.KillProcess);
            serve.Dispose();
            throw;
        }
    }

    private static ChildProcess StartServe(IEnumerable<string> arguments, Dictionary<string, string> environment) =>
        ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.Local"), ["serve", .. arguments, "--root", RepoPaths.Root], environment);

    private static string Url(int port) => $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";

    private static HttpClient Http(string key = FunctionKey)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("x-functions-key", key);
        return http;
    }

    private Dictionary<string, string> Environment(string hub, EmulatorProcess emulator) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["DashScope__Endpoint"] = emulator.Url + "/api/v1/",
        ["DashScope__ApiKey"] = emulator.ApiKey,
        ["ImageJobs__ResultHosts__0"] = $"127.0.0.1:{emulator.Port}",
        ["ImageJobs__Outbound__AllowedHosts__0"] = $"127.0.0.1:{emulator.Port}",
        ["ImageJobs__ExpectedDurationScale"] = "0.25",
        ["IMAGEJOBS_FUNCTION_KEY"] = FunctionKey,
        ["AzureFunctionsJobHost__extensions__durableTask__hubName"] = hub,
        ["AzureFunctionsJobHost__extensions__queues__maxPollingInterval"] = "00:00:01",
    };

    private static JsonObject Job(string id, string model) => new()
    {
        ["jobId"] = id,
        ["model"] = model,
        ["input"] = new JsonObject { ["prompt"] = $"picture {id}" },
        ["parameters"] = model == "wanx-v1" ? new JsonObject { ["n"] = 1 } : new JsonObject(),
    };

    // LocalRecovery: the worker id of a host is its machine name and process id.
    private static string WorkerId(ChildProcess host) => Durable.LocalRecovery.WorkerIdOf(host.Process.Id);

    private static int PartitionOf(string instanceId) => TaskHubPartitions.Of(instanceId, PartitionCount);

    /// <summary>Partition index → current owner, from the task hub's partition table.</summary>
    private async Task<Dictionary<int, string?>> PartitionOwnersAsync(string hub)
    {
        var table = new TableClient(azurite.ConnectionString, hub + "Partitions");
        var owners = new Dictionary<int, string?>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>())
            {
                owners[int.Parse(row.RowKey[^2..], CultureInfo.InvariantCulture)] = row.GetString("CurrentOwner");
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return owners;
    }

    /// <summary>Instance id → runtime status and last update, from the task hub's Instances table.</summary>
    private async Task<Dictionary<string, (string Status, DateTimeOffset LastUpdated)>> InstancesAsync(string hub)
    {
        var table = new TableClient(azurite.ConnectionString, hub + "Instances");
        var rows = new Dictionary<string, (string, DateTimeOffset)>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(select: ["PartitionKey", "RuntimeStatus", "LastUpdatedTime"]))
        {
            rows[row.PartitionKey] = (row.GetString("RuntimeStatus") ?? "", row.GetDateTimeOffset("LastUpdatedTime") ?? DateTimeOffset.MinValue);
        }

        return rows;
    }

    private static string Describe(Dictionary<int, string?> owners, List<string> workers) =>
        string.Join(", ", owners.OrderBy(o => o.Key).Select(o => $"{o.Key}→{(workers.IndexOf(o.Value ?? "") is var i and >= 0 ? $"host {i + 1}" : o.Value ?? "none")}"));

    // The summary `serve --instances N` prints once every instance listens: instance number → pid (the children).
    private static async Task<Dictionary<int, int>> InstancesOfAsync(ChildProcess serve, int count) =>
        await Eventually.GetAsync(() =>
        {
            var found = InstanceLines().Matches(serve.Output).ToDictionary(m => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture),
                m => int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture));
            if (serve.Process.HasExited)
            {
                Assert.Fail($"serve exited ({serve.Process.ExitCode}):\n{serve.Output}");
            }

            return found.Count == count ? found.Where(p => p.Key > 1).ToDictionary() : null;
        }, $"serve --instances {count} to list its instances", TimeSpan.FromMinutes(3));

    // With IMAGEJOBS_TEST_LOG_DIR set, a process's whole output is written there for a closer look.
    private static void KeepLog(string name, string log)
    {
        if (System.Environment.GetEnvironmentVariable("IMAGEJOBS_TEST_LOG_DIR") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, name + ".log"), log);
        }
    }

    // Warning and error lines of a console log (a header line, then the message), counted by header, with the first message of each.
    private static string Problems(string log)
    {
        var lines = log.Split('\n');
        var problems = new List<(string Header, string Message)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains("warn:", StringComparison.Ordinal) || lines[i].Contains("fail:", StringComparison.Ordinal))
            {
                var message = i + 1 < lines.Length ? lines[i + 1].Trim() : "";
                problems.Add((lines[i].Trim(), message.Length > 300 ? message[..300] + "…" : message));
            }
        }

        return string.Join('\n', problems.GroupBy(p => p.Header).Select(g => $"  {g.Count()} × {g.Key} {g.First().Message}"));
    }

    // `count` consecutive ports free right now on 127.0.0.1; returns the first.
    private static int FreePorts(int count)
    {
        for (var attempt = 0; ; attempt++)
        {
            var first = FreePort.Next();
            var listeners = new List<TcpListener>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, first + i);
                    listener.Start();
                    listeners.Add(listener);
                }

                return first;
            }
            catch (SocketException) when (attempt < 50)
            {
            }
            finally
            {
                listeners.ForEach(l => l.Stop());
            }
        }
    }

    [GeneratedRegex(@"^  instance (?<n>[0-9]+): \S+ \(pid (?<pid>[0-9]+)", RegexOptions.Multiline)]
    private static partial Regex InstanceLines();

    [GeneratedRegex(@"^(\[instance (?<instance>[0-9]+)\] )?\s+Upload (?<blob>\S+) started job ", RegexOptions.Multiline)]
    private static partial Regex StartedLines();

    [GeneratedRegex(@"Function key, the same on all [0-9]+ instances: (?<key>\S+)")]
    private static partial Regex GeneratedKey();

    /// <summary>The DashScope emulator as its own process, limits on (scaled by <c>limitScale</c>), at time scale 0.25.</summary>
    private sealed class EmulatorProcess : IDisposable
    {
        private readonly ChildProcess _process;
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

        private EmulatorProcess(ChildProcess process, int port, string apiKey)
        {
            _process = process;
            Port = port;
            ApiKey = apiKey;
        }

        public int Port { get; }

        public string Url => ScaleOutTests.Url(Port);

        public string ApiKey { get; }

        public static async Task<EmulatorProcess> StartAsync(double limitScale)
        {
            var apiKey = "sk-scale-" + Guid.NewGuid().ToString("N");
            var port = FreePort.Next();
            var process = ChildProcess.Start(ChildProcess.BuiltDll("ImageJobs.DashScope.Emulator"),
                ["--urls", ScaleOutTests.Url(port), "--api-key", apiKey, "--time-scale", "0.25", "--seed", "11", "--enable-limits",
                 "--limit-scale", limitScale.ToString(CultureInfo.InvariantCulture)],
                new Dictionary<string, string>());
            var emulator = new EmulatorProcess(process, port, apiKey);
            await process.WaitUntilReadyAsync(emulator._http, emulator.Url + "/emulator/stats");
            return emulator;
        }

        public async Task<JsonObject> StatsAsync() => (await _http.GetFromJsonAsync<JsonObject>(new Uri(Url + "/emulator/stats")))!;

        public void Dispose()
        {
            _process.Dispose();
            _http.Dispose();
        }
    }
}
