using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Local.Tests;

/// <summary>
/// Malformed jobs: every bad HTTP body is a 400 problem+json naming the field (never a 5xx), and every bad queue message
/// ends in the poison queue with the reason.
/// </summary>
public sealed class BadInputTests(BadInputTests.Fixture fixture) : IClassFixture<BadInputTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        protected override bool Triggers => true;

        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["AzureFunctionsJobHost:extensions:queues:maxDequeueCount"] = "2",
            ["AzureFunctionsJobHost:extensions:queues:visibilityTimeout"] = "00:00:00",
            ["AzureFunctionsJobHost:extensions:queues:maxPollingInterval"] = "00:00:00.200",
        };
    }

    private const string Wanx = "\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"a cat\"}";
    private const string Edit = "\"model\":\"wanx2.1-imageedit\"";
    private const string Wan25 = "\"model\":\"wan2.5-i2i-preview\"";
    private const string Png = "blob:inputs/cat.png";

    /// <summary>(name, body, the field the problem must name).</summary>
    public static TheoryData<string, string, string> Bodies => new()
    {
        { "empty body", "", "$" },
        { "not JSON", "hello", "$" },
        { "truncated JSON", "{\"model\":", "$" },
        { "array", "[]", "$" },
        { "null", "null", "$" },
        { "number", "42", "$" },
        { "string", "\"job\"", "$" },
        { "trailing garbage", "{" + Wanx + "} x", "$" },
        { "duplicate model", "{\"model\":\"wanx-v1\",\"model\":\"qwen-image\",\"input\":{\"prompt\":\"a\"}}", "$" },
        { "too deep", "{" + Wanx + ",\"parameters\":{\"x\":" + new string('[', 200) + new string(']', 200) + "}}", "$" },
        { "no model", "{\"input\":{\"prompt\":\"a cat\"}}", "model" },
        { "unknown model", "{\"model\":\"dall-e\",\"input\":{\"prompt\":\"a cat\"}}", "model" },
        { "model not a string", "{\"model\":5,\"input\":{\"prompt\":\"a cat\"}}", "model" },
        { "no input", "{\"model\":\"wanx-v1\"}", "input" },
        { "input not an object", "{\"model\":\"wanx-v1\",\"input\":\"a cat\"}", "input" },
        { "parameters not an object", "{" + Wanx + ",\"parameters\":[1]}", "parameters" },
        { "unknown top-level field", "{" + Wanx + ",\"priority\":1}", "priority" },
        { "empty jobId", "{" + Wanx + ",\"jobId\":\"\"}", "jobId" },
        { "jobId with space", "{" + Wanx + ",\"jobId\":\"a b\"}", "jobId" },
        { "jobId too long", "{" + Wanx + ",\"jobId\":\"" + new string('a', 65) + "\"}", "jobId" },
        { "jobId a number", "{" + Wanx + ",\"jobId\":5}", "jobId" },
        { "jobId non-ASCII", "{" + Wanx + ",\"jobId\":\"caf\u00e9\"}", "jobId" },
        { "jobId path", "{" + Wanx + ",\"jobId\":\"../x\"}", "jobId" },
        { "output a string", "{" + Wanx + ",\"output\":\"results\"}", "output" },
        { "container upper case", "{" + Wanx + ",\"output\":{\"container\":\"Results\"}}", "output.container" },
        { "container too short", "{" + Wanx + ",\"output\":{\"container\":\"ab\"}}", "output.container" },
        { "container leading dash", "{" + Wanx + ",\"output\":{\"container\":\"-abc\"}}", "output.container" },
        { "container a number", "{" + Wanx + ",\"output\":{\"container\":123}}", "output.container" },
        { "prefix absolute", "{" + Wanx + ",\"output\":{\"prefix\":\"/abs\"}}", "output.prefix" },
        { "prefix dot-dot", "{" + Wanx + ",\"output\":{\"prefix\":\"a/../b\"}}", "output.prefix" },
        { "prefix backslash", "{" + Wanx + ",\"output\":{\"prefix\":\"a\\\\b\"}}", "output.prefix" },
        { "prefix control char", "{" + Wanx + ",\"output\":{\"prefix\":\"a\\u0001\"}}", "output.prefix" },
        { "output unknown field", "{" + Wanx + ",\"output\":{\"tier\":\"hot\"}}", "output.tier" },
        { "prefix without a trailing slash", "{" + Wanx + ",\"output\":{\"prefix\":\"team-\"}}", "output.prefix" },
        { "container the state container", "{" + Wanx + ",\"jobId\":\"jobs\",\"output\":{\"container\":\"imagejobs-state\"}}", "output.container" },
        { "container the uploads container", "{" + Wanx + ",\"output\":{\"container\":\"uploads\",\"prefix\":\"stylization_all/\"}}", "output.container" },
        { "container a task hub's", "{" + Wanx + ",\"output\":{\"container\":\"imagejobshub-instances\"}}", "output.container" },
        { "container the Functions host's", "{" + Wanx + ",\"output\":{\"container\":\"azure-webjobs-secrets\"}}", "output.container" },
        { "container not allowed", "{" + Wanx + ",\"output\":{\"container\":\"someone-elses\"}}", "output.container" },
        { "notify a string", "{" + Wanx + ",\"notify\":\"https://example.com\"}", "notify" },
        { "webhook ftp", "{" + Wanx + ",\"notify\":{\"webhookUrl\":\"ftp://example.com/x\"}}", "notify.webhookUrl" },
        { "webhook relative", "{" + Wanx + ",\"notify\":{\"webhookUrl\":\"/hooks/x\"}}", "notify.webhookUrl" },
        { "webhook a number", "{" + Wanx + ",\"notify\":{\"webhookUrl\":5}}", "notify.webhookUrl" },
        { "webhook with credentials", "{" + Wanx + ",\"notify\":{\"webhookUrl\":\"https://user:pw@example.com/x\"}}", "notify.webhookUrl" },
        { "queue name invalid", "{" + Wanx + ",\"notify\":{\"queue\":\"Done_Queue\"}}", "notify.queue" },
        { "queue name short", "{" + Wanx + ",\"notify\":{\"queue\":\"ab\"}}", "notify.queue" },
        { "instanceId empty", "{" + Wanx + ",\"notify\":{\"instanceId\":\"\"}}", "notify.instanceId" },
        { "eventName without instance", "{" + Wanx + ",\"notify\":{\"eventName\":\"Done\"}}", "notify.eventName" },
        { "notify unknown field", "{" + Wanx + ",\"notify\":{\"email\":\"a@b.c\"}}", "notify.email" },
        { "timeout text", "{" + Wanx + ",\"timeout\":\"soon\"}", "timeout" },
        { "timeout zero", "{" + Wanx + ",\"timeout\":0}", "timeout" },
        { "timeout negative", "{" + Wanx + ",\"timeout\":-5}", "timeout" },
        { "timeout a day", "{" + Wanx + ",\"timeout\":\"1.00:00:00\"}", "timeout" },
        { "timeout ISO two days", "{" + Wanx + ",\"timeout\":\"P2D\"}", "timeout" },
        { "timeout ISO overflow", "{" + Wanx + ",\"timeout\":\"P99999999999D\"}", "timeout" },
        { "timeout huge number", "{" + Wanx + ",\"timeout\":1e400}", "timeout" },
        { "timeout boolean", "{" + Wanx + ",\"timeout\":true}", "timeout" },
        { "timeout negative span", "{" + Wanx + ",\"timeout\":\"-00:10:00\"}", "timeout" },
        { "prompt missing", "{\"model\":\"wanx-v1\",\"input\":{}}", "input.prompt" },
        { "prompt a number", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":5}}", "input.prompt" },
        { "n zero", "{" + Wanx + ",\"parameters\":{\"n\":0}}", "parameters.n" },
        { "n five", "{" + Wanx + ",\"parameters\":{\"n\":5}}", "parameters.n" },
        { "n a string", "{" + Wanx + ",\"parameters\":{\"n\":\"2\"}}", "parameters.n" },
        { "n fractional", "{" + Wanx + ",\"parameters\":{\"n\":1.5}}", "parameters.n" },
        { "seed negative", "{" + Wanx + ",\"parameters\":{\"seed\":-1}}", "parameters.seed" },
        { "qwen n two", "{\"model\":\"qwen-image\",\"input\":{\"prompt\":\"a\"},\"parameters\":{\"n\":2}}", "parameters.n" },
        { "qwen size", "{\"model\":\"qwen-image\",\"input\":{\"prompt\":\"a\"},\"parameters\":{\"size\":\"1024*1024\"}}", "parameters.size" },
        { "edit unknown function", "{" + Edit + ",\"input\":{\"function\":\"sharpen\",\"prompt\":\"a\",\"base_image_url\":\"" + Png + "\"}}", "input.function" },
        { "edit no base image", "{" + Edit + ",\"input\":{\"function\":\"stylization_all\",\"prompt\":\"a\"}}", "input.base_image_url" },
        { "edit bad blob container", "{" + Edit + ",\"input\":{\"function\":\"stylization_all\",\"prompt\":\"a\",\"base_image_url\":\"blob:Inputs/cat.png\"}}", "input.base_image_url" },
        { "edit blob without name", "{" + Edit + ",\"input\":{\"function\":\"stylization_all\",\"prompt\":\"a\",\"base_image_url\":\"blob:inputs/\"}}", "input.base_image_url" },
        { "edit ftp image", "{" + Edit + ",\"input\":{\"function\":\"stylization_all\",\"prompt\":\"a\",\"base_image_url\":\"ftp://example.com/a.png\"}}", "input.base_image_url" },
        { "edit base image a number", "{" + Edit + ",\"input\":{\"function\":\"stylization_all\",\"prompt\":\"a\",\"base_image_url\":7}}", "input.base_image_url" },
        { "edit mask without mask function", "{" + Edit + ",\"input\":{\"function\":\"stylization_all\",\"prompt\":\"a\",\"base_image_url\":\"" + Png + "\",\"mask_image_url\":\"" + Png + "\"}}", "input.mask_image_url" },
        { "edit mask function without mask", "{" + Edit + ",\"input\":{\"function\":\"description_edit_with_mask\",\"prompt\":\"a\",\"base_image_url\":\"" + Png + "\"}}", "input.mask_image_url" },
        { "wan2.5 images a string", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":\"" + Png + "\"}}", "input.images" },
        { "wan2.5 no images", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":[]}}", "input.images" },
        { "wan2.5 four images", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":[\"" + Png + "\",\"" + Png + "\",\"" + Png + "\",\"" + Png + "\"]}}", "input.images" },
        { "wan2.5 image a number", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":[5]}}", "input.images[0]" },
        { "wan2.5 bad blob reference", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":[\"blob:x/y.png\"]}}", "input.images[0]" },
        { "lone high surrogate in prompt", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"a \\ud800 cat\"}}", "input.prompt" },
        { "lone low surrogate in prompt", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"\\udfff\"}}", "input.prompt" },
        { "lone surrogate in jobId", "{" + Wanx + ",\"jobId\":\"\\ud800\"}", "jobId" },
        { "lone surrogate in model", "{\"model\":\"\\udfff\",\"input\":{\"prompt\":\"a\"}}", "model" },
        { "lone surrogate in a top-level key", "{" + Wanx + ",\"\\ud800\":1}", "$" },
        { "lone surrogate in a parameters key", "{" + Wanx + ",\"parameters\":{\"\\ud800\":1}}", "parameters" },
        { "lone surrogate in timeout", "{" + Wanx + ",\"timeout\":\"\\ud800\"}", "timeout" },
        { "lone surrogate in webhookUrl", "{" + Wanx + ",\"notify\":{\"webhookUrl\":\"https://example.com/\\udfff\"}}", "notify.webhookUrl" },
        { "lone surrogate in container", "{" + Wanx + ",\"output\":{\"container\":\"\\ud800\"}}", "output.container" },
        { "lone surrogate in size", "{" + Wanx + ",\"parameters\":{\"size\":\"1024\\ud800\"}}", "parameters.size" },
        { "lone surrogate in an image list", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":[\"\\ud800\"]}}", "input.images[0]" },
        { "timeout ISO past TimeSpan", "{" + Wanx + ",\"timeout\":\"P10675199DT3H\"}", "timeout" },
        { "timeout ISO far past TimeSpan", "{" + Wanx + ",\"timeout\":\"P99999999DT99H\"}", "timeout" },
        { "timeout a tenth of a millisecond", "{" + Wanx + ",\"timeout\":0.0001}", "timeout" },
        { "timeout half a second", "{" + Wanx + ",\"timeout\":0.5}", "timeout" },
        { "timeout ISO half a second", "{" + Wanx + ",\"timeout\":\"PT0.5S\"}", "timeout" },
        { "timeout hh:mm:ss under a second", "{" + Wanx + ",\"timeout\":\"00:00:00.9\"}", "timeout" },
        { "seed 1.0", "{" + Wanx + ",\"parameters\":{\"seed\":1.0}}", "parameters.seed" },
        { "seed 1e0", "{" + Wanx + ",\"parameters\":{\"seed\":1e0}}", "parameters.seed" },
        { "seed -0.0", "{" + Wanx + ",\"parameters\":{\"seed\":-0.0}}", "parameters.seed" },
        { "seed 2147483647.0", "{" + Wanx + ",\"parameters\":{\"seed\":2147483647.0}}", "parameters.seed" },
        { "n 1.0", "{" + Wanx + ",\"parameters\":{\"n\":1.0}}", "parameters.n" },
        { "prompt NUL", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"\\u0000\"}}", "input.prompt" },
        { "prompt only control characters", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"\\u0001\\u001f \\u007f\\t\"}}", "input.prompt" },
        { "wan2.5 size too small", "{" + Wan25 + ",\"input\":{\"prompt\":\"a\",\"images\":[\"" + Png + "\"]},\"parameters\":{\"size\":\"100*100\"}}", "parameters.size" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Post_MalformedJob_Is400ProblemNamingTheField(string name, string body, string field)
    {
        using var response = await fixture.App.Http.PostAsync("api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertNamesFieldAsync(name, response, field);
    }

    /// <summary>(name, raw body bytes with invalid UTF-8 inside a string, the field).</summary>
    public static TheoryData<string, byte[], string> InvalidUtf8Bodies => new()
    {
        { "ff fe in prompt", Utf8("{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"a ", [0xff, 0xfe], " cat\"}}"), "input.prompt" },
        { "overlong slash in jobId", Utf8("{" + Wanx + ",\"jobId\":\"", [0xc0, 0xaf], "\"}"), "jobId" },
        { "encoded surrogate in prefix", Utf8("{" + Wanx + ",\"output\":{\"prefix\":\"", [0xed, 0xa0, 0x80], "/\"}}"), "output.prefix" },
        { "truncated sequence in a key", Utf8("{" + Wanx + ",\"notify\":{\"", [0xe2, 0x82], "\":1}}"), "notify" },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8Bodies))]
    public async Task Post_InvalidUtf8_Is400ProblemNamingTheField(string name, byte[] body, string field)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await fixture.App.Http.PostAsync("api/jobs", content);
        await AssertNamesFieldAsync(name, response, field);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("image/png")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=utf-16")]
    public async Task Post_NotJsonContentType_Is415Problem(string contentType)
    {
        using var content = new StringContent("{" + Wanx + "}", Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        using var response = await fixture.App.Http.PostAsync("api/jobs", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("application/json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/vnd.imagejobs+json")]
    public async Task Post_JsonContentType_IsAccepted(string contentType)
    {
        using var content = new StringContent("{" + Wanx + ",\"jobId\":\"ct-" + Guid.NewGuid().ToString("N") + "\"}", Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        using var response = await fixture.App.Http.PostAsync("api/jobs", content);

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{contentType}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static byte[] Utf8(string before, byte[] raw, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];

    private static async Task AssertNamesFieldAsync(string name, HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        var errors = problem["errors"]?.AsObject();
        Assert.True(errors is not null && errors.ContainsKey(field), $"{name}: the problem does not name '{field}': {text}");
        Assert.All(errors![field]!.AsArray(), m => Assert.False(string.IsNullOrWhiteSpace(m!.GetValue<string>())));
    }

    [Fact]
    public void Bodies_AreAtLeastFifty() => Assert.True(Bodies.Count >= 50, $"Only {Bodies.Count} malformed bodies.");

    [Fact]
    public async Task Post_WithoutFunctionKey_Is401Problem()
    {
        using var http = new HttpClient { BaseAddress = fixture.App.BaseAddress };
        using var response = await http.PostAsync("api/jobs", new StringContent("{" + Wanx + "}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Upload_WithMalformedMetadata_IsRejectedAndTheScannerKeepsGoing()
    {
        var app = fixture.App;
        var uploads = app.Blobs.GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
        await uploads.CreateIfNotExistsAsync();
        var bad = new Dictionary<string, string>
        {
            ["duplicate"] = Uri.EscapeDataString("{\"n\":1,\"n\":2}"),
            ["not-json"] = Uri.EscapeDataString("{n:1"),
            ["not-an-object"] = Uri.EscapeDataString("[1]"),
        };
        foreach (var (name, parameters) in bad)
        {
            await uploads.GetBlobClient($"stylization_all/bad-{name}-{Guid.NewGuid():N}.png").UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
                new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = "x", ["parameters"] = parameters } });
        }

        var wrongFolder = $"elsewhere/{Guid.NewGuid():N}.png";
        await uploads.GetBlobClient(wrongFolder).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)));
        var good = $"stylization_all/good-{Guid.NewGuid():N}.png";
        await uploads.GetBlobClient(good).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = "x" } });

        // Every rejected upload gets a receipt with its reason, and the good one (uploaded last) still becomes a job.
        var state = app.Blobs.GetBlobContainerClient(new ImageJobsOptions().StateContainer);
        var receipts = await Eventually.GetAsync(async () =>
        {
            var found = new List<JsonObject>();
            await foreach (var item in state.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = "uploads/" }))
            {
                found.Add(JsonNode.Parse((await state.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString())!.AsObject());
            }

            return found.Any(r => r["blob"]!.GetValue<string>() == good && r["jobId"] is not null) ? found : null;
        }, "a receipt for the good upload");

        foreach (var name in bad.Keys)
        {
            var receipt = receipts.SingleOrDefault(r => r["blob"]!.GetValue<string>().StartsWith($"stylization_all/bad-{name}-", StringComparison.Ordinal));
            Assert.True(receipt is not null, $"No receipt for the '{name}' upload.");
            Assert.Contains("parameters", receipt["error"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Contains(receipts, r => r["blob"]!.GetValue<string>() == wrongFolder && r["error"] is not null);
        var goodJob = receipts.Single(r => r["blob"]!.GetValue<string>() == good)["jobId"]!.GetValue<string>();
        Assert.Equal(Workflow.Jobs.JobStatus.Succeeded, (await app.WaitForJobAsync(goodJob)).Status);
    }

    [Fact]
    public async Task Upload_WhoseMetadataBreaksTheIntake_IsPoisonedOnceAndLaterUploadsStillStart()
    {
        var app = fixture.App;
        var uploads = app.Blobs.GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
        await uploads.CreateIfNotExistsAsync();
        // Listed first (names sort), with parameters {"\ud800":1}: before, every scan stopped at this blob.
        var bad = $"stylization_all/aa-poison-{Guid.NewGuid():N}.png";
        await uploads.GetBlobClient(bad).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["parameters"] = "%7B%22%5Cud800%22%3A1%7D" } });
        var good = $"stylization_all/zz-after-poison-{Guid.NewGuid():N}.png";
        await uploads.GetBlobClient(good).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = "x" } });

        var state = app.Blobs.GetBlobContainerClient(new ImageJobsOptions().StateContainer);
        var goodJob = await Eventually.GetAsync(async () =>
        {
            await foreach (var item in state.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = "uploads/" }))
            {
                var receipt = JsonNode.Parse((await state.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString())!;
                if (receipt["blob"]!.GetValue<string>() == good && receipt["jobId"] is { } id)
                {
                    return id.GetValue<string>();
                }
            }

            return null;
        }, "a job for the upload after the poisoned one");
        Assert.Equal(Workflow.Jobs.JobStatus.Succeeded, (await app.WaitForJobAsync(goodJob)).Status);

        var poison = app.Queues.GetQueueClient(ImageJobsOptions.PoisonQueue);
        var record = await Eventually.GetAsync(async () =>
        {
            foreach (var m in (await poison.PeekMessagesAsync(32)).Value)
            {
                var json = JsonNode.Parse(m.Body.ToString())!.AsObject();
                if (json["blob"]?.GetValue<string>() == $"{ImageJobsOptions.UploadsContainer}/{bad}")
                {
                    return json;
                }
            }

            return null;
        }, "a poison record for the bad upload");
        Assert.Contains(record["errors"]!.AsArray(), e => e!["field"]!.GetValue<string>().StartsWith("parameters", StringComparison.Ordinal));
        await Task.Delay(UploadScanner.Interval * 3); // three more scans: the blob is not handled or logged again
        Assert.Single(app.Logs.Entries, e => e.Contains(bad, StringComparison.Ordinal) && e.Contains("not turned into a job", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string> Messages => new()
    {
        { "not JSON", "this is not a job", "$" },
        { "base64 of garbage", Convert.ToBase64String(Encoding.UTF8.GetBytes("{{{{")), "$" },
        { "array", "[1,2,3]", "$" },
        { "unknown model", "{\"model\":\"dall-e\",\"input\":{\"prompt\":\"a cat\"}}", "model" },
        { "bad timeout, base64", Convert.ToBase64String(Encoding.UTF8.GetBytes("{" + Wanx + ",\"timeout\":\"soon\"}")), "timeout" },
        { "invalid jobId", "{" + Wanx + ",\"jobId\":\"has space\"}", "jobId" },
        { "duplicate property", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"a\",\"prompt\":\"b\"}}", "$" },
        { "lone surrogate in prompt", "{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\"\\ud800\"}}", "input.prompt" },
        { "lone surrogate key, base64", Convert.ToBase64String(Encoding.UTF8.GetBytes("{" + Wanx + ",\"parameters\":{\"\\udfff\":1}}")), "parameters" },
        { "invalid UTF-8, base64", Convert.ToBase64String([.. Encoding.UTF8.GetBytes("{\"model\":\"wanx-v1\",\"input\":{\"prompt\":\""), 0xc0, 0xaf, .. Encoding.UTF8.GetBytes("\"}}")]), "input.prompt" },
        { "timeout overflow", "{" + Wanx + ",\"timeout\":\"P10675199DT3H\"}", "timeout" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public async Task QueueMessage_Malformed_EndsInPoisonQueueWithReason(string name, string message, string field)
    {
        var queue = fixture.App.Queues.GetQueueClient(ImageJobsOptions.JobsQueue);
        var poison = fixture.App.Queues.GetQueueClient(ImageJobsOptions.PoisonQueue);
        await queue.CreateIfNotExistsAsync();
        await poison.CreateIfNotExistsAsync();
        var sent = (await queue.SendMessageAsync(message)).Value;

        var envelope = await Eventually.GetAsync(async () =>
        {
            foreach (var m in (await poison.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(1))).Value)
            {
                var json = JsonNode.Parse(m.Body.ToString())!.AsObject();
                if (json["messageId"]?.GetValue<string>() == sent.MessageId)
                {
                    await poison.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                    return json;
                }
            }

            return null;
        }, $"'{name}' in the poison queue");

        Assert.Equal(message, envelope["message"]!.GetValue<string>());
        Assert.Equal(1, envelope["dequeueCount"]!.GetValue<int>()); // invalid by itself: poisoned on its first read, not retried
        var reason = envelope["reason"]!.GetValue<string>();
        Assert.Contains(field, reason, StringComparison.Ordinal);
        Assert.Contains(envelope["errors"]!.AsArray(), e => e!["field"]!.GetValue<string>() == field);
        Assert.Null(await fixture.App.Client.GetInstanceAsync(ImageJobs.Workflow.Intake.JobIntake.QueueJobId(sent.MessageId)));
    }
}
