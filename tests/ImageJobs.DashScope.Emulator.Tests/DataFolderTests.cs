using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>
/// <see cref="DashScopeEmulatorOptions.DataFolder"/>: tasks, uploads, counters and the port survive a restart (a
/// dispose and a start on the same folder, on a clock the test moves); expired and unreadable state does not.
/// </summary>
public sealed class DataFolderTests : IDisposable
{
    private const string ImageEdit = "wanx2.1-imageedit";

    /// <summary>wanx-v1 runs one task at a time (26–31 s each), so a second one waits PENDING.</summary>
    private static readonly string WanxTwo = EmulatorClient.Body("wanx-v1", new { prompt = "a boat at dawn" }, new { n = 2 });
    private static readonly string WanxOne = EmulatorClient.Body("wanx-v1", new { prompt = "a lighthouse" }, new { n = 1 });

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("imagejobs-emulator-data-");
    private readonly FakeTimeProvider _time = new(EmulatorClient.ClockStart);

    public void Dispose() => _folder.Delete(recursive: true);

    private string JournalPath => Path.Combine(_folder.FullName, "tasks.jsonl");

    private Task<EmulatorClient> StartAsync(Action<DashScopeEmulatorOptions>? configure = null) =>
        EmulatorClient.StartAsync(o =>
        {
            o.TimeScale = 1;
            o.DataFolder = _folder.FullName;
            configure?.Invoke(o);
        }, _time);

    private async Task<EmulatorClient> RestartAsync(EmulatorClient emu)
    {
        await emu.DisposeAsync();
        return await StartAsync();
    }

    /// <summary>A task's answer without its request id (new on every call).</summary>
    private static async Task<string> TaskAnswerAsync(EmulatorClient emu, string id)
    {
        var reply = await emu.GetTaskAsync(id);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        var body = JsonNode.Parse(reply.Text)!.AsObject();
        body.Remove("request_id");
        return body.ToJsonString();
    }

    private static string Status(string answer) => JsonNode.Parse(answer)!["output"]!["task_status"]!.GetValue<string>();

    private static string Output(string answer, string field) => JsonNode.Parse(answer)!["output"]![field]!.GetValue<string>();

    private static async Task<string> ImageSha256Async(EmulatorClient emu, string url)
    {
        var (status, bytes) = await emu.DownloadAsync(url);
        Assert.Equal(HttpStatusCode.OK, status);
        EmulatorClient.PngSize(bytes);
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    [Fact]
    public async Task Restart_TasksInFlight_SameAnswersTimestampsUrlsAndImageBytes()
    {
        var emu = await StartAsync();
        var first = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxTwo);
        var second = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne); // waits for the first one's slot
        _time.Advance(TimeSpan.FromSeconds(1));
        var firstRunning = await TaskAnswerAsync(emu, first);
        var secondPending = await TaskAnswerAsync(emu, second);
        Assert.Equal(("RUNNING", "PENDING"), (Status(firstRunning), Status(secondPending)));

        emu = await RestartAsync(emu);

        Assert.Equal(firstRunning, await TaskAnswerAsync(emu, first));
        Assert.Equal(secondPending, await TaskAnswerAsync(emu, second));

        // The second task starts in the slot the first one frees (30 ms later, as without a restart), decided after it.
        _time.Advance(TimeSpan.FromSeconds(40));
        var firstDone = await TaskAnswerAsync(emu, first);
        var secondRunning = await TaskAnswerAsync(emu, second);
        Assert.Equal(("SUCCEEDED", "RUNNING"), (Status(firstDone), Status(secondRunning)));
        var firstEnd = DateTime.Parse(Output(firstDone, "end_time"), System.Globalization.CultureInfo.InvariantCulture);
        var secondStart = DateTime.Parse(Output(secondRunning, "scheduled_time"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.FromMilliseconds(30), secondStart - firstEnd);
        var urls = JsonNode.Parse(firstDone)!["output"]!["results"]!.AsArray().Select(r => r!["url"]!.GetValue<string>()).ToList();
        Assert.Equal(2, urls.Count);
        var hashes = new List<string>();
        foreach (var url in urls)
        {
            hashes.Add(await ImageSha256Async(emu, url));
        }

        emu = await RestartAsync(emu);

        Assert.Equal(firstDone, await TaskAnswerAsync(emu, first)); // same URLs: same port, same signature
        Assert.Equal(secondRunning, await TaskAnswerAsync(emu, second));
        for (var i = 0; i < urls.Count; i++)
        {
            Assert.Equal(hashes[i], await ImageSha256Async(emu, urls[i])); // painted again after the restart, identically
        }

        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal("SUCCEEDED", Status(await TaskAnswerAsync(emu, second)));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_SyncCallImage_SameUrlSameBytes()
    {
        // The sync call waits for its latency on the clock, so this test runs on the system clock, 500× faster.
        var emu = await EmulatorClient.StartAsync(o => o.DataFolder = _folder.FullName);
        var reply = await emu.PostAsync(EmulatorClient.Multimodal,
            JsonSerializer.Serialize(new { model = "qwen-image", input = new { messages = new[] { new { role = "user", content = new[] { new { text = "a cat" } } } } } }),
            isAsync: false);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        var url = reply.Output.GetProperty("choices")[0].GetProperty("message").GetProperty("content")[0].GetProperty("image").GetString()!;
        var hash = await ImageSha256Async(emu, url);
        await emu.DisposeAsync();

        emu = await EmulatorClient.StartAsync(o => o.DataFolder = _folder.FullName);

        Assert.Equal(hash, await ImageSha256Async(emu, url));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_ListEndpoint_IncludesRestoredTasksWithTheirTimes()
    {
        var emu = await StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        _time.Advance(TimeSpan.FromSeconds(1));
        using (var response = await emu.Http.GetAsync("tasks"))
        {
            var before = await Reply.ReadAsync(response);
            Assert.Equal(1, before.Json.GetProperty("total").GetInt32());
        }

        emu = await RestartAsync(emu);
        using (var response = await emu.Http.GetAsync("tasks"))
        {
            var after = await Reply.ReadAsync(response);

            Assert.Equal(1, after.Json.GetProperty("total").GetInt32());
            var item = after.Json.GetProperty("data")[0];
            Assert.Equal(id, item.GetProperty("task_id").GetString());
            Assert.Equal("RUNNING", item.GetProperty("status").GetString());
            Assert.Equal(new DateTimeOffset(2025, 1, 8, 8, 3, 59, 840, TimeSpan.Zero).ToUnixTimeMilliseconds(), item.GetProperty("gmt_create").GetInt64());
        }

        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_PendingTask_CanBeCanceledAndStaysCanceled()
    {
        var emu = await StartAsync();
        var running = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        var pending = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        _time.Advance(TimeSpan.FromSeconds(1));
        emu = await RestartAsync(emu);

        var canceled = await emu.CancelAsync(pending);
        var refused = await emu.CancelAsync(running);

        Assert.Equal(HttpStatusCode.OK, canceled.Status);
        Assert.Equal("UnsupportedOperation", refused.Code);
        var answer = await TaskAnswerAsync(emu, pending);
        Assert.Equal("CANCELED", Status(answer));
        emu = await RestartAsync(emu);
        Assert.Equal(answer, await TaskAnswerAsync(emu, pending));
        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal("SUCCEEDED", await emu.StatusAsync(running));
        Assert.Equal("CANCELED", await emu.StatusAsync(pending));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_TaskCanceledBeforeRestart_TheTaskQueuedBehindItStartsNext()
    {
        var emu = await StartAsync();
        var running = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        var canceled = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        _time.Advance(TimeSpan.FromSeconds(1)); // wanx-v1 takes 2 submits a second
        var queued = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        Assert.Equal(HttpStatusCode.OK, (await emu.CancelAsync(canceled)).Status);

        emu = await RestartAsync(emu);
        _time.Advance(TimeSpan.FromSeconds(40));

        var first = await TaskAnswerAsync(emu, running);
        var third = await TaskAnswerAsync(emu, queued);
        Assert.Equal("CANCELED", await emu.StatusAsync(canceled));
        Assert.Equal("RUNNING", Status(third));
        Assert.Equal(
            DateTime.Parse(Output(first, "end_time"), System.Globalization.CultureInfo.InvariantCulture).AddMilliseconds(30),
            DateTime.Parse(Output(third, "scheduled_time"), System.Globalization.CultureInfo.InvariantCulture));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_ExpiredTaskAndUpload_NotReadBackAndTheirDataRemoved()
    {
        var emu = await StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        await UploadAsync(emu, PngEncoder.Paint(1024, 512, 7), "old.png");
        Assert.Single(Directory.GetFiles(Path.Combine(_folder.FullName, "uploads")));
        await emu.DisposeAsync();
        _time.Advance(TimeSpan.FromHours(48.5)); // past the task TTL (24 h) and the upload TTL (48 h)

        emu = await StartAsync();
        var fresh = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);

        Assert.Equal((0, 0, 2), (emu.Host.Restored!.Tasks, emu.Host.Restored.Uploads, emu.Host.Restored.Expired));
        Assert.Equal("UNKNOWN", await emu.StatusAsync(id));
        var journal = await File.ReadAllTextAsync(JournalPath);
        Assert.DoesNotContain(id, journal, StringComparison.Ordinal);
        Assert.Contains(fresh, journal, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder.FullName, "uploads")));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_TornAndCorruptFiles_SkippedAndSetAside_EverythingElseRestored()
    {
        var emu = await StartAsync();
        var first = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        var second = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        await UploadAsync(emu, PngEncoder.Paint(1024, 512, 7), "a.png");
        await emu.DisposeAsync();
        var lines = await File.ReadAllLinesAsync(JournalPath);
        Assert.Equal(2, lines.Length);
        // A line edited into garbage between the two records, and a record torn in half at the end (a power cut).
        await File.WriteAllTextAsync(JournalPath, lines[0] + "\n{\"version\":1,garbage\n" + lines[1] + "\n" + lines[1][..(lines[1].Length / 2)]);
        await File.WriteAllTextAsync(Path.Combine(_folder.FullName, "stats.json"), "{\"submissions\":");
        var upload = Directory.GetFiles(Path.Combine(_folder.FullName, "uploads")).Single();
        var bytes = await File.ReadAllBytesAsync(upload);
        await File.WriteAllBytesAsync(upload, bytes[..^10]);

        emu = await StartAsync();

        var restored = emu.Host.Restored!;
        Assert.Equal((2, 0), (restored.Tasks, restored.Uploads));
        Assert.Equal(4, restored.Skipped.Count);
        Assert.Contains(restored.Skipped, s => s.Contains("tasks.jsonl line 2", StringComparison.Ordinal));
        Assert.Contains(restored.Skipped, s => s.Contains("tasks.jsonl line 4", StringComparison.Ordinal));
        Assert.Contains(restored.Skipped, s => s.Contains("stats.json", StringComparison.Ordinal));
        Assert.Contains(restored.Skipped, s => s.Contains(Path.GetFileName(upload), StringComparison.Ordinal));
        Assert.Equal("PENDING", await emu.StatusAsync(second));
        Assert.Equal("PENDING", await emu.StatusAsync(first)); // the 30 ms schedule delay has not passed
        Assert.True(File.Exists(JournalPath + ".corrupt"));
        Assert.True(File.Exists(upload + ".corrupt"));

        emu = await RestartAsync(emu); // what was skipped is not read (nor warned about) again
        Assert.Empty(emu.Host.Restored!.Skipped);
        Assert.Equal(2, emu.Host.Restored.Tasks);
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_UnreadableSecrets_NewSecretsAndTasksStillRestored()
    {
        var emu = await StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        await emu.DisposeAsync();
        await File.WriteAllBytesAsync(Path.Combine(_folder.FullName, "emulator.json"), []);

        emu = await StartAsync();

        Assert.Contains(emu.Host.Restored!.Skipped, s => s.Contains("emulator.json", StringComparison.Ordinal));
        Assert.Equal("PENDING", await emu.StatusAsync(id));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_Upload_StillResolvesForASubmit()
    {
        var emu = await StartAsync();
        var key = await UploadAsync(emu, PngEncoder.Paint(1024, 512, 7), "kept.png");

        emu = await RestartAsync(emu);
        var reply = await SubmitEditAsync(emu, key);

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal(1, emu.Host.Restored!.Uploads);
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_PolicyIssuedBefore_UploadAfterIsAcceptedForItsModel()
    {
        var emu = await StartAsync();
        var policy = await GetPolicyAsync(emu);

        emu = await RestartAsync(emu);
        var (status, body) = await PostFormAsync(policy, PngEncoder.Paint(1024, 512, 7), "late.png");
        var reply = await SubmitEditAsync(emu, $"oss://{policy.GetProperty("upload_dir").GetString()}/late.png");

        Assert.True(status == HttpStatusCode.OK, body);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_Counters_SurviveWithQueriesOfKnownTasks()
    {
        var emu = await StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        await emu.GetTaskAsync(id);
        await emu.GetTaskAsync(id);
        await emu.GetTaskAsync("no-such-task");

        emu = await RestartAsync(emu);

        var stats = emu.Host.Stats.Snapshot();
        Assert.Equal((1, 1, 3), (stats.Submissions, stats.Accepted, stats.Queries));
        Assert.Equal(2, stats.QueriesByTask[id]);
        Assert.False(stats.QueriesByTask.ContainsKey("no-such-task"));
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_RecordedPortFree_ListensOnTheSamePort()
    {
        var emu = await StartAsync();
        var port = emu.Host.RootAddress.Port;

        emu = await RestartAsync(emu);

        Assert.Equal(port, emu.Host.RootAddress.Port);
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Restart_RecordedPortTaken_FreePortInsteadAndTasksRestored()
    {
        var emu = await StartAsync();
        var port = emu.Host.RootAddress.Port;
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, WanxOne);
        await emu.DisposeAsync();
        using var squatter = new TcpListener(IPAddress.Loopback, port);
        squatter.Start();

        emu = await StartAsync();

        Assert.NotEqual(port, emu.Host.RootAddress.Port);
        Assert.Equal("PENDING", await emu.StatusAsync(id));
        squatter.Stop();
        var newPort = emu.Host.RootAddress.Port;
        emu = await RestartAsync(emu);
        Assert.Equal(newPort, emu.Host.RootAddress.Port); // the port it got is the one recorded
        await emu.DisposeAsync();
    }

    [Fact]
    public async Task Start_FolderInUse_SecondEmulatorKeepsItsStateInMemory()
    {
        await using var owner = await StartAsync();
        var id = await owner.SubmitAsync(EmulatorClient.Text2Image, WanxOne);

        await using var second = await StartAsync();
        var other = await second.SubmitAsync(EmulatorClient.Text2Image, WanxOne);

        Assert.Null(second.Host.Restored);
        Assert.Equal("UNKNOWN", await second.StatusAsync(id));
        Assert.Equal("PENDING", await owner.StatusAsync(id));
        Assert.DoesNotContain(other, await File.ReadAllTextAsync(JournalPath), StringComparison.Ordinal);
    }

    [Fact]
    public void CompactIfWorthIt_ManySupersededRecords_JournalRewrittenAndStillAppendable()
    {
        var clock = new EmulatorClock(_time, 1);
        var store = new TaskStore(clock, TimeSpan.FromHours(24));
        var data = EmulatorDataFolder.TryOpen(_folder.FullName, NullLogger.Instance)!;
        Assert.Empty(data.LoadTasks(_ => false, out _));
        var rule = ModelRules.Find("wanx-v1")!;
        EmulatorTask NewTask() => new(Guid.NewGuid().ToString(), "r", rule, new TaskPlan("p", null, 1, 1024, 1024, null, false, null),
            _time.GetUtcNow(), TimeSpan.FromSeconds(30), null, [null], 1, isSync: false);
        var live = NewTask();
        var gone = NewTask();
        var later = NewTask();
        foreach (var task in new[] { live, gone, later })
        {
            store.TryAdd(task, int.MaxValue, rejectWhenFull: false); // numbers them
        }

        data.SaveTask(live);
        for (var i = 0; i < 1100; i++)
        {
            data.SaveTask(gone); // records of a task since expired, say
        }

        data.CompactIfWorthIt([live]);
        data.SaveTask(later);
        data.Dispose();

        Assert.Equal(2, File.ReadAllLines(JournalPath).Length);
        var reopened = EmulatorDataFolder.TryOpen(_folder.FullName, NullLogger.Instance)!;
        Assert.Equal(new[] { live.Id, later.Id }.Order(), reopened.LoadTasks(_ => false, out _).Select(r => r.Id).Order());
        reopened.Dispose();
    }

    private static async Task<JsonElement> GetPolicyAsync(EmulatorClient emu)
    {
        using var response = await emu.Http.GetAsync($"uploads?action=getPolicy&model={ImageEdit}");
        var reply = await Reply.ReadAsync(response);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        return reply.Json.GetProperty("data");
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostFormAsync(JsonElement policy, byte[] file, string fileName)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, field) in new[]
        {
            ("OSSAccessKeyId", "oss_access_key_id"), ("Signature", "signature"), ("policy", "policy"),
            ("x-oss-object-acl", "x_oss_object_acl"), ("x-oss-forbid-overwrite", "x_oss_forbid_overwrite"),
        })
        {
            form.Add(new StringContent(policy.GetProperty(field).GetString()!), name);
        }

        form.Add(new StringContent(policy.GetProperty("upload_dir").GetString() + "/" + fileName), "key");
        form.Add(new StringContent("200"), "success_action_status");
        form.Add(new StringContent("image/png"), "x-oss-content-type");
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(part, "file", fileName);
        using var plain = new HttpClient();
        using var response = await plain.PostAsync(new Uri(policy.GetProperty("upload_host").GetString()!), form);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> UploadAsync(EmulatorClient emu, byte[] file, string fileName)
    {
        var policy = await GetPolicyAsync(emu);
        var (status, body) = await PostFormAsync(policy, file, fileName);
        Assert.True(status == HttpStatusCode.OK, body);
        return $"oss://{policy.GetProperty("upload_dir").GetString()}/{fileName}";
    }

    private static async Task<Reply> SubmitEditAsync(EmulatorClient emu, string baseImage)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.Image2Image)
        {
            Content = new StringContent(
                EmulatorClient.Body(ImageEdit, new { function = "super_resolution", prompt = "sharper", base_image_url = baseImage }, new { n = 1 }),
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-DashScope-Async", "enable");
        request.Headers.Add("X-DashScope-OssResourceResolve", "enable");
        using var response = await emu.Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }
}
