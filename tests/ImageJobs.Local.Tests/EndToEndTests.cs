using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs.Models;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Local.Tests;

/// <summary>
/// Every trigger (HTTP, the image-jobs queue, an upload) for every model family, end to end: the image lands in blob
/// storage with its size and metadata, and every completion channel fires (signed webhook, completion queue, external
/// event to a waiting orchestration).
/// </summary>
public sealed class EndToEndTests(EndToEndTests.Fixture fixture) : IClassFixture<EndToEndTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        protected override bool Triggers => true;

        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true",
            ["ImageJobs:OutputContainers:0"] = "team-results",
        };
    }

    private const string InputContainer = "inputs";

    public static TheoryData<string, string, int, int> Cases => new()
    {
        { "http", "wanx-v1", 720, 1280 },
        { "http", "wanx2.1-imageedit", 640, 512 },
        { "http", "wan2.5-i2i-preview", 1280, 1024 },
        { "http", "qwen-image", 1664, 928 },
        { "http", "qwen-image-plus", 928, 1664 },
        { "queue", "wanx-v1", 720, 1280 },
        { "queue", "wanx2.1-imageedit", 640, 512 },
        { "queue", "wan2.5-i2i-preview", 1280, 1024 },
        { "queue", "qwen-image", 1664, 928 },
        { "queue", "qwen-image-plus", 928, 1664 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Trigger_EachModel_StoresImageAndRaisesEveryCompletionEvent(string trigger, string model, int width, int height)
    {
        var app = fixture.App;
        var jobId = $"{trigger}-{model.Replace('.', '-')}-{Guid.NewGuid():N}";
        var waiter = await app.Client.ScheduleNewOrchestrationInstanceAsync(TestApp.WaiterOrchestration, null, new Microsoft.DurableTask.StartOrchestrationOptions($"waiter-{jobId}"));
        var job = await JobAsync(jobId, model);
        job["notify"] = new JsonObject { ["webhookUrl"] = fixture.Webhooks.Url.AbsoluteUri, ["instanceId"] = waiter };

        if (trigger == "http")
        {
            Assert.Equal(jobId, await app.StartJobAsync(job));
        }
        else
        {
            var queue = app.Queues.GetQueueClient(ImageJobsOptions.JobsQueue);
            await queue.CreateIfNotExistsAsync();
            await queue.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(job.ToJsonString())));
            await Eventually.GetAsync(() => app.Client.GetInstanceAsync(jobId), $"the queue trigger to start '{jobId}'");
        }

        var result = await app.WaitForJobAsync(jobId);
        Assert.Equal(JobStatus.Succeeded, result.Status);
        var image = Assert.Single(result.Images);
        Assert.Null(image.Error);
        Assert.Equal((width, height), (image.Width, image.Height));
        await AssertStoredImageAsync(jobId, model, image, width, height);

        // Webhook: signed (Standard Webhooks), verified as a receiver would.
        var delivery = await Eventually.GetAsync(() => fixture.Webhooks.Deliveries.FirstOrDefault(d => d.Id == $"{jobId}/completed"), $"the webhook for '{jobId}'");
        Assert.True(WebhookSignature.Verify(TestApp.WebhookSecret, delivery.Id!, delivery.Timestamp!, delivery.Signature!, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
            "The webhook signature does not verify.");
        Assert.False(WebhookSignature.Verify("whsec_d3Jvbmctc2VjcmV0", delivery.Id!, delivery.Timestamp!, delivery.Signature!, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        Assert.StartsWith("application/cloudevents+json", delivery.ContentType, StringComparison.Ordinal);
        AssertCompletedEvent(JsonNode.Parse(delivery.Body)!.AsObject(), jobId);

        // Completion queue: base64 CloudEvent.
        AssertCompletedEvent(await fixture.Completions.WaitForAsync(jobId), jobId);

        // External event: the waiting orchestration received the same CloudEvent.
        var waited = await app.WaitForInstanceAsync(waiter);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, waited.RuntimeStatus);
        AssertCompletedEvent(JsonNode.Parse(waited.SerializedOutput!)!.AsObject(), jobId);

        // Status API: 200 with a read link that serves the stored bytes.
        var status = await app.GetStatusAsync(jobId);
        Assert.Equal("Completed", status["runtimeStatus"]!.GetValue<string>());
        var url = status["output"]!["images"]![0]!["url"]!.GetValue<string>();
        using var http = new HttpClient();
        var linked = await http.GetByteArrayAsync(new Uri(url));
        Assert.Equal(image.Sha256, Convert.ToHexStringLower(SHA256.HashData(linked)));
    }

    [Theory]
    [InlineData("stylization_all", "wanx2.1-imageedit")]
    [InlineData("wan2.5-i2i-preview", "wan2.5-i2i-preview")]
    public async Task Upload_EditModels_StartsJobStoresImageAndSendsCompletionMessage(string folder, string model)
    {
        var app = fixture.App;
        var blobName = $"{folder}/{Guid.NewGuid():N}.png";
        var uploads = app.Blobs.GetBlobContainerClient(ImageJobsOptions.UploadsContainer);
        await uploads.CreateIfNotExistsAsync();
        await uploads.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)),
            new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prompt"] = Uri.EscapeDataString("make it watercolour") } });

        var reference = $"blob:{ImageJobsOptions.UploadsContainer}/{blobName}";
        var instance = await Eventually.GetAsync(async () =>
        {
            return (await app.QueryAsync("upload-")).FirstOrDefault(i => i.SerializedInput?.Contains(reference, StringComparison.Ordinal) == true);
        }, $"the uploads scanner to start a job for '{blobName}'");

        var result = await app.WaitForJobAsync(instance.InstanceId);
        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(model, result.Model);
        var image = Assert.Single(result.Images);
        if (model == "wanx2.1-imageedit")
        {
            Assert.Equal((640, 512), (image.Width, image.Height));
        }
        else
        {
            // wan2.5 without a size: about 1280*1280 pixels with the input's 5:4 aspect ratio.
            Assert.InRange((double)image.Width!.Value / image.Height!.Value, 1.2, 1.3);
            Assert.InRange(image.Width.Value * image.Height.Value, 1_400_000, 1_700_000);
        }

        await AssertStoredImageAsync(instance.InstanceId, model, image, image.Width!.Value, image.Height!.Value);
        AssertCompletedEvent(await fixture.Completions.WaitForAsync(instance.InstanceId), instance.InstanceId);
    }

    [Fact]
    public async Task Http_SeedPrefixContainerAndUnicodePrompt_LandInBlobMetadataAndManifest()
    {
        var app = fixture.App;
        var jobId = $"meta-{Guid.NewGuid():N}";
        const string Prompt = "一只猫 in a café, 100% \"quoted\" & <tagged>";
        var job = Job(jobId, "qwen-image-plus", new JsonObject { ["prompt"] = Prompt }, new JsonObject { ["seed"] = 42 });
        job["output"] = new JsonObject { ["container"] = "team-results", ["prefix"] = "team-a/2026/" };

        var result = await app.WaitForJobAsync(await app.StartJobAsync(job));

        var image = Assert.Single(result.Images);
        Assert.Equal("team-results", image.Container);
        Assert.Equal($"team-a/2026/{jobId}/0.png", image.BlobName);
        var properties = (await app.Blobs.GetBlobContainerClient("team-results").GetBlobClient(image.BlobName).GetPropertiesAsync()).Value;
        Assert.Equal("42", properties.Metadata[BlobMetadata.Seed]);
        Assert.Equal(Prompt, BlobMetadata.DecodeText(properties.Metadata[BlobMetadata.OrigPrompt]));
        Assert.True(properties.Metadata.ContainsKey(BlobMetadata.ActualPrompt), "qwen echoes the prompt it used.");
        var manifest = JsonNode.Parse((await app.Blobs.GetBlobContainerClient("team-results").GetBlobClient($"team-a/2026/{jobId}/manifest.json").DownloadContentAsync()).Value.Content.ToString())!;
        Assert.Equal(Prompt, manifest["input"]!["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Http_DataUriInput_IsSentInlineAndElidedFromTheManifest()
    {
        var app = fixture.App;
        var jobId = $"datauri-{Guid.NewGuid():N}";
        var dataUri = "data:image/png;base64," + Convert.ToBase64String(TestImages.Png(600, 800));
        var job = Job(jobId, "wanx2.1-imageedit",
            new JsonObject { ["function"] = "stylization_all", ["prompt"] = "ink", ["base_image_url"] = dataUri }, new JsonObject { ["n"] = 1 });

        var result = await app.WaitForJobAsync(await app.StartJobAsync(job));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal((600, 800), (result.Images[0].Width, result.Images[0].Height));
        var manifest = (await app.Blobs.GetBlobContainerClient("results").GetBlobClient($"{jobId}/manifest.json").DownloadContentAsync()).Value.Content.ToString();
        Assert.DoesNotContain(dataUri[..200], manifest, StringComparison.Ordinal);
        Assert.Contains("data:image/png;base64,", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_NotifyInstanceThatDoesNotExist_JobStillSucceeds()
    {
        var app = fixture.App;
        var jobId = $"nobody-{Guid.NewGuid():N}";
        var job = Job(jobId, "qwen-image", new JsonObject { ["prompt"] = "a cat" }, new JsonObject());
        job["notify"] = new JsonObject { ["instanceId"] = $"nobody-home-{Guid.NewGuid():N}", ["eventName"] = "Done" };

        var result = await app.WaitForJobAsync(await app.StartJobAsync(job));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        AssertCompletedEvent(await fixture.Completions.WaitForAsync(jobId), jobId);
    }

    [Fact]
    public async Task Queue_MessageWithoutJobId_RunsUnderTheMessageId()
    {
        var app = fixture.App;
        var queue = app.Queues.GetQueueClient(ImageJobsOptions.JobsQueue);
        await queue.CreateIfNotExistsAsync();
        var job = new JsonObject { ["model"] = "qwen-image", ["input"] = new JsonObject { ["prompt"] = "no id" } };
        var sent = (await queue.SendMessageAsync(job.ToJsonString())).Value;
        var jobId = ImageJobs.Workflow.Intake.JobIntake.QueueJobId(sent.MessageId);

        await Eventually.GetAsync(() => app.Client.GetInstanceAsync(jobId), $"the queue trigger to start '{jobId}'");
        Assert.Equal(JobStatus.Succeeded, (await app.WaitForJobAsync(jobId)).Status);
        AssertCompletedEvent(await fixture.Completions.WaitForAsync(jobId), jobId);
    }

    private async Task<JsonObject> JobAsync(string jobId, string model)
    {
        string Input() => $"blob:{InputContainer}/{jobId}.png";
        if (model is "wanx2.1-imageedit" or "wan2.5-i2i-preview")
        {
            var container = fixture.App.Blobs.GetBlobContainerClient(InputContainer);
            await container.CreateIfNotExistsAsync();
            await container.GetBlobClient($"{jobId}.png").UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)));
        }

        return model switch
        {
            "wanx-v1" => Job(jobId, model, new JsonObject { ["prompt"] = "a lighthouse" }, new JsonObject { ["n"] = 1, ["size"] = "720*1280" }),
            "wanx2.1-imageedit" => Job(jobId, model,
                new JsonObject { ["function"] = "stylization_all", ["prompt"] = "watercolour", ["base_image_url"] = Input() }, new JsonObject { ["n"] = 1 }),
            "wan2.5-i2i-preview" => Job(jobId, model,
                new JsonObject { ["prompt"] = "at night", ["images"] = new JsonArray(Input()) }, new JsonObject { ["n"] = 1, ["size"] = "1280*1024" }),
            "qwen-image" => Job(jobId, model, new JsonObject { ["prompt"] = "a red fox" }, new JsonObject { ["size"] = "1664*928" }),
            _ => Job(jobId, model, new JsonObject { ["prompt"] = "a blue bird" }, new JsonObject { ["n"] = 1, ["size"] = "928*1664" }),
        };
    }

    private static JsonObject Job(string jobId, string model, JsonObject input, JsonObject parameters) =>
        new() { ["jobId"] = jobId, ["model"] = model, ["input"] = input, ["parameters"] = parameters };

    private async Task AssertStoredImageAsync(string jobId, string model, JobImage image, int width, int height)
    {
        Assert.Equal("results", image.Container);
        Assert.Equal($"{jobId}/0.png", image.BlobName);
        var blob = fixture.App.Blobs.GetBlobContainerClient(image.Container).GetBlobClient(image.BlobName);
        var content = (await blob.DownloadContentAsync()).Value;
        var bytes = content.Content.ToArray();
        Assert.Equal((width, height), TestImages.PngSize(bytes));
        Assert.Equal("image/png", content.Details.ContentType);
        Assert.Equal(image.Bytes, bytes.Length);
        var metadata = content.Details.Metadata;
        Assert.Equal(jobId, metadata[BlobMetadata.JobId]);
        Assert.Equal(model, metadata[BlobMetadata.Model]);
        Assert.False(string.IsNullOrEmpty(metadata[BlobMetadata.TaskId]));
        Assert.Equal("0", metadata[BlobMetadata.Index]);
        Assert.Equal(width.ToString(System.Globalization.CultureInfo.InvariantCulture), metadata[BlobMetadata.Width]);
        Assert.Equal(height.ToString(System.Globalization.CultureInfo.InvariantCulture), metadata[BlobMetadata.Height]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), metadata[BlobMetadata.Sha256]);
        Assert.Equal(image.Sha256, metadata[BlobMetadata.Sha256]);

        var manifest = await fixture.App.Blobs.GetBlobContainerClient("results").GetBlobClient($"{jobId}/manifest.json").DownloadContentAsync();
        var manifestJson = JsonNode.Parse(manifest.Value.Content.ToString())!;
        Assert.Equal(jobId, manifestJson["jobId"]!.GetValue<string>());
        Assert.Equal("Succeeded", manifestJson["result"]!["status"]!.GetValue<string>());
    }

    private static void AssertCompletedEvent(JsonObject evt, string jobId)
    {
        Assert.Equal("1.0", evt["specversion"]!.GetValue<string>());
        Assert.Equal($"{jobId}/completed", evt["id"]!.GetValue<string>());
        Assert.Equal(CompletionEventTypes.Completed, evt["type"]!.GetValue<string>());
        Assert.Equal(jobId, evt["subject"]!.GetValue<string>());
        var data = evt["data"].Deserialize<JobResult>(DurableJson.Options)!;
        Assert.Equal(jobId, data.JobId);
        Assert.Equal(JobStatus.Succeeded, data.Status);
        Assert.Single(data.Images);
    }
}
