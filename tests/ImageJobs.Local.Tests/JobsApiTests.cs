using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Local.Tests;

/// <summary>The rest of the jobs API over real HTTP: status while running, cancel, events, list filters, purge, custom completion queue.</summary>
public sealed class JobsApiTests(JobsApiTests.Fixture fixture) : IClassFixture<JobsApiTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        // Slow enough that a wanx-v1 task (one at a time) stays PENDING behind another for seconds.
        protected override DashScopeEmulatorOptions EmulatorOptions => new() { TimeScale = 0.1 };

        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true",
            ["ImageJobs:OutputContainers:0"] = "purge-results",
        };
    }

    private static JsonObject Job(string model = "qwen-image", string prompt = "a cat") => new()
    {
        ["jobId"] = $"api-{Guid.NewGuid():N}",
        ["model"] = model,
        ["input"] = new JsonObject { ["prompt"] = prompt },
    };

    [Fact]
    public async Task Status_WhileRunning_Is202WithLocation_ThenCompletedIs200()
    {
        var app = fixture.App;
        var id = await app.StartJobAsync(Job());
        using (var running = await app.Http.GetAsync($"api/jobs/{id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, running.StatusCode);
            Assert.EndsWith($"/api/jobs/{id}", running.Headers.Location?.AbsoluteUri, StringComparison.Ordinal);
        }

        await app.WaitForJobAsync(id);
        using var done = await app.Http.GetAsync($"api/jobs/{id}");
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
    }

    [Fact]
    public async Task Cancel_WhilePending_CancelsAtProviderAndEndsCanceled()
    {
        var app = fixture.App;
        var before = app.Emulator.Stats.Snapshot();
        var blocker = await app.StartJobAsync(Job("wanx-v1"));
        await Eventually.GetAsync(() => app.Emulator.Stats.Snapshot().Accepted > before.Accepted ? "" : null, "the blocking job to be submitted");
        var id = await app.StartJobAsync(Job("wanx-v1"));
        await Eventually.GetAsync(() => app.Emulator.Stats.Snapshot().Accepted > before.Accepted + 1 ? "" : null, "the queued job to be submitted");

        using (var cancel = await app.Http.PostAsync($"api/jobs/{id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var result = await app.WaitForJobAsync(id);
        Assert.Equal(JobStatus.Canceled, result.Status);
        Assert.Equal("Canceled", result.Error?.Code);
        Assert.Equal(before.Canceled + 1, app.Emulator.Stats.Snapshot().Canceled);
        using var again = await app.Http.PostAsync($"api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(blocker)).Status);
    }

    [Fact]
    public async Task UnknownJob_Is404ProblemOnEveryRoute()
    {
        var http = fixture.App.Http;
        foreach (var response in new[]
        {
            await http.GetAsync("api/jobs/no-such-job"),
            await http.PostAsync("api/jobs/no-such-job/cancel", null),
            await http.PostAsync("api/jobs/no-such-job/events/Go", new StringContent("{}", Encoding.UTF8, "application/json")),
            await http.DeleteAsync("api/jobs/no-such-job"),
        })
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    [Theory]
    [InlineData("status=Bogus", "status")]
    [InlineData("top=0", "top")]
    [InlineData("top=abc", "top")]
    [InlineData("top=5000", "top")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    public async Task List_BadQuery_Is400NamingTheParameter(string query, string field)
    {
        using var response = await fixture.App.Http.GetAsync($"api/jobs?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.True(JsonNode.Parse(body)!["errors"]!.AsObject().ContainsKey(field), body);
    }

    [Fact]
    public async Task List_ByStatus_FindsCompletedJob()
    {
        var app = fixture.App;
        var id = await app.StartJobAsync(Job());
        await app.WaitForJobAsync(id);
        var list = JsonNode.Parse(await app.Http.GetStringAsync("api/jobs?status=Completed&top=1000"))!;
        Assert.Contains(list["jobs"]!.AsArray(), j => j!["instanceId"]!.GetValue<string>() == id);
        var running = JsonNode.Parse(await app.Http.GetStringAsync("api/jobs?status=Running&top=1000"))!;
        Assert.DoesNotContain(running["jobs"]!.AsArray(), j => j!["instanceId"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task Events_BadPayload_Is400_AndFinishedJob_Is409()
    {
        var app = fixture.App;
        var id = await app.StartJobAsync(Job());
        using (var bad = await app.Http.PostAsync($"api/jobs/{id}/events/Nudge", new StringContent("{nope", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var duplicate = await app.Http.PostAsync($"api/jobs/{id}/events/Nudge", new StringContent("{\"a\":1,\"a\":2}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        }

        await app.WaitForJobAsync(id);
        using var late = await app.Http.PostAsync($"api/jobs/{id}/events/Nudge", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    public static TheoryData<string, byte[], string> BadEventPayloads => new()
    {
        { "lone high surrogate", Encoding.UTF8.GetBytes("{\"a\":\"\\ud800\"}"), "a" },
        { "lone low surrogate, nested", Encoding.UTF8.GetBytes("{\"a\":{\"b\":[\"\\udfff\"]}}"), "a.b[0]" },
        { "lone surrogate key", Encoding.UTF8.GetBytes("{\"\\ud800\":1}"), "$" },
        { "a lone surrogate string", Encoding.UTF8.GetBytes("\"\\ud800\""), "$" },
        { "invalid UTF-8", [.. Encoding.UTF8.GetBytes("{\"a\":\""), 0xff, 0xfe, .. Encoding.UTF8.GetBytes("\"}")], "a" },
    };

    [Theory]
    [MemberData(nameof(BadEventPayloads))]
    public async Task Events_PayloadWithInvalidText_Is400NamingTheField(string name, byte[] payload, string field)
    {
        var app = fixture.App;
        var job = Job("wanx-v1");
        var id = await app.StartJobAsync(job);
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await app.Http.PostAsync($"api/jobs/{id}/events/Nudge", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonNode.Parse(text)!["errors"]!.AsObject().ContainsKey(field), $"{name}: the problem does not name '{field}': {text}");
    }

    [Fact]
    public async Task Purge_WithDeleteResults_RemovesHistoryAndImages()
    {
        var app = fixture.App;
        var job = Job();
        job["output"] = new JsonObject { ["container"] = "purge-results", ["prefix"] = "team-a/" };
        var id = await app.StartJobAsync(job);
        var result = await app.WaitForJobAsync(id);
        var image = Assert.Single(result.Images);
        Assert.Equal($"team-a/{id}/0.png", image.BlobName);
        var container = app.Blobs.GetBlobContainerClient("purge-results");
        Assert.True((await container.GetBlobClient(image.BlobName).ExistsAsync()).Value);

        using var purge = await app.Http.DeleteAsync($"api/jobs/{id}?deleteResults=true");
        var body = JsonNode.Parse(await purge.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        Assert.Equal(1, body["instancesDeleted"]!.GetValue<int>());
        Assert.Equal(2, body["blobsDeleted"]!.GetValue<int>()); // the image and the manifest
        Assert.False((await container.GetBlobClient(image.BlobName).ExistsAsync()).Value);
        Assert.Null(await app.Client.GetInstanceAsync(id));
        using var gone = await app.Http.GetAsync($"api/jobs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Purge_WithDeleteResults_LeavesOtherJobsResultsUnderItsNameAlone()
    {
        // Job "{team}" writes {team}/0.png; job "v1" with prefix "{team}/" writes {team}/v1/0.png and its manifest.
        var app = fixture.App;
        var team = $"team{Guid.NewGuid():N}";
        var outer = Job();
        outer["jobId"] = team;
        outer["output"] = new JsonObject { ["container"] = "purge-results" };
        var inner = Job();
        inner["jobId"] = "v1";
        inner["output"] = new JsonObject { ["container"] = "purge-results", ["prefix"] = team + "/" };
        var outerResult = await app.WaitForJobAsync(await app.StartJobAsync(outer));
        var innerResult = await app.WaitForJobAsync(await app.StartJobAsync(inner));
        var container = app.Blobs.GetBlobContainerClient("purge-results");
        string[] innerBlobs = [innerResult.Images.Single().BlobName!, innerResult.Manifest!];
        Assert.All(innerBlobs, name => Assert.StartsWith(team + "/v1/", name, StringComparison.Ordinal));

        using var purge = await app.Http.DeleteAsync($"api/jobs/{team}?deleteResults=true");
        var body = JsonNode.Parse(await purge.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        Assert.Equal(2, body["blobsDeleted"]!.GetValue<int>());
        Assert.False((await container.GetBlobClient(outerResult.Images.Single().BlobName).ExistsAsync()).Value);
        foreach (var name in innerBlobs)
        {
            Assert.True((await container.GetBlobClient(name).ExistsAsync()).Value, $"{name} of job v1 was deleted by the purge of job {team}.");
        }

        using var purgeInner = await app.Http.DeleteAsync("api/jobs/v1?deleteResults=true");
        Assert.Equal(2, JsonNode.Parse(await purgeInner.Content.ReadAsStringAsync())!["blobsDeleted"]!.GetValue<int>());
    }

    [Fact]
    public async Task CustomCompletionQueue_ReceivesTheEventInsteadOfTheDefault()
    {
        var app = fixture.App;
        var job = Job();
        job["notify"] = new JsonObject { ["queue"] = "team-a-done" };
        var id = await app.StartJobAsync(job);
        await app.WaitForJobAsync(id);

        var reader = new CompletionQueueReader(app.Queues.GetQueueClient("team-a-done"));
        var evt = await reader.WaitForAsync(id);
        Assert.Equal(CompletionEventTypes.Completed, evt["type"]!.GetValue<string>());
        await fixture.Completions.DrainAsync();
        Assert.Empty(fixture.Completions.For(id));
    }

    public static TheoryData<string, string> OddRequests => new()
    {
        { "GET", "api/jobs?continuationToken=not-a-token" },
        { "GET", "api/jobs?continuationToken=" + new string('z', 3000) },
        { "GET", "api/jobs?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z" },
        { "GET", "api/jobs?status=Completed,,Running" },
        { "GET", "api/jobs/" + new string('a', 2000) },
        { "GET", "api/jobs/%20" },
        { "GET", "api/jobs/a%2Fb" },
        { "GET", "api/jobs/..%2F..%2Fsecrets" },
        { "GET", "api/jobs/%E2%98%83" },
        { "POST", "api/jobs/" + new string('b', 2000) + "/cancel" },
        { "POST", "api/jobs/x%2Fy/events/Go" },
        { "POST", "api/jobs/some-job/events/" + new string('e', 500) },
        { "DELETE", "api/jobs/" + new string('c', 2000) + "?deleteResults=true" },
        { "DELETE", "api/jobs/a%2F..%2Fb" },
    };

    [Theory]
    [MemberData(nameof(OddRequests))]
    public async Task OddRequests_NeverAnswer5xx(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        using var response = await fixture.App.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{method} {path[..Math.Min(80, path.Length)]}: {(int)response.StatusCode} {body}");
    }
}
