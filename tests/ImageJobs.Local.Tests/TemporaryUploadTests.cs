using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Storage;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local.Tests;

/// <summary>
/// <c>blob:</c> inputs through DashScope's temporary storage against the emulator on Azurite: the app uploads the
/// blob, submits <c>oss://…</c> with <c>X-DashScope-OssResourceResolve</c> (the emulator resolves it only then), and
/// records the upload with the submission intent.
/// </summary>
public sealed class TemporaryUploadTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private async Task<string> InputBlobAsync(TestApp app, int width, int height)
    {
        var container = app.Blobs.GetBlobContainerClient("inputs");
        await container.CreateIfNotExistsAsync();
        var name = $"oss/{Guid.NewGuid():N}.png";
        await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(TestImages.Png(width, height)));
        return $"blob:inputs/{name}";
    }

    private static async Task<SubmissionRecord> SubmissionAsync(TestApp app, string jobId)
    {
        var content = await app.Blobs.GetBlobContainerClient("imagejobs-state").GetBlobClient($"jobs/{jobId}/submission.json").DownloadContentAsync();
        return content.Value.Content.ToObjectFromJson<SubmissionRecord>(ImageJobs.Workflow.Durable.DurableJson.Options)!;
    }

    /// <summary>Runs a job to its end and returns its id and result (it must succeed).</summary>
    private static async Task<(string JobId, JobResult Result)> RunAsync(TestApp app, string model, JsonObject input, JsonObject parameters)
    {
        var jobId = $"oss-{Guid.NewGuid():N}";
        await app.StartJobAsync(new JsonObject { ["jobId"] = jobId, ["model"] = model, ["input"] = input, ["parameters"] = parameters });
        var result = await app.WaitForJobAsync(jobId);
        Assert.Equal(JobStatus.Succeeded, result.Status);
        return (jobId, result);
    }

    [Fact]
    public async Task WanxV1RefImgFromBlob_AutoUsesTemporaryUpload_SubmitCarriesOssUrl()
    {
        await using var app = await TestApp.StartAsync(azurite);
        var reference = await InputBlobAsync(app, 512, 512);
        var (jobId, result) = await RunAsync(app, "wanx-v1",
            new JsonObject { ["prompt"] = "a cat like this one", ["ref_img"] = reference }, new JsonObject { ["n"] = 1 });

        Assert.Single(result.Images);
        var stats = app.Emulator.Stats.Snapshot();
        Assert.Equal((1, 1, 1), (stats.UploadPolicies, stats.FilesUploaded, stats.OssInputsResolved));
        var upload = Assert.Single((await SubmissionAsync(app, jobId)).Uploads!);
        Assert.Equal(("input.ref_img", reference), (upload.Field, upload.Source));
        Assert.StartsWith("oss://dashscope-instant/", upload.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImageEditFromBlob_TemporaryUploadMode_SubmitCarriesOssUrl_AndTheEmulatorReadsItsSize()
    {
        await using var app = await TestApp.StartAsync(azurite, settings: new Dictionary<string, string?> { ["ImageJobs:InputMode"] = "TemporaryUpload" });
        var reference = await InputBlobAsync(app, 640, 512);
        var (jobId, result) = await RunAsync(app, "wanx2.1-imageedit",
            new JsonObject { ["function"] = "super_resolution", ["prompt"] = "sharper", ["base_image_url"] = reference },
            new JsonObject { ["n"] = 1, ["upscale_factor"] = 2 });

        var image = Assert.Single(result.Images);
        Assert.Equal((1280, 1024), (image.Width, image.Height)); // twice the uploaded 640x512 PNG
        var stats = app.Emulator.Stats.Snapshot();
        Assert.Equal((1, 1), (stats.FilesUploaded, stats.OssInputsResolved));
        Assert.Equal("input.base_image_url", Assert.Single((await SubmissionAsync(app, jobId)).Uploads!).Field);
    }

    [Fact]
    public async Task ImageEditFromBlob_Auto_StaysADataUri()
    {
        await using var app = await TestApp.StartAsync(azurite);
        var reference = await InputBlobAsync(app, 640, 512);
        await RunAsync(app, "wanx2.1-imageedit",
            new JsonObject { ["function"] = "stylization_all", ["prompt"] = "watercolour", ["base_image_url"] = reference }, new JsonObject { ["n"] = 1 });

        Assert.Equal(0, app.Emulator.Stats.Snapshot().FilesUploaded);
    }

    [Theory]
    [InlineData(null, null, "TemporaryUpload")]
    [InlineData("Singapore", null, null)]
    [InlineData(null, "DataUri", null)]
    public async Task RealServiceOnLocalStorage_GenerateAndServe_UseTemporaryUploadsInBeijing(string? region, string? inputMode, string? expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["DASHSCOPE_API_KEY"] = "sk-not-used-no-request-is-made",
            ["DashScope:Region"] = region,
            ["ImageJobs:InputMode"] = inputMode,
        }).Build();

        await using var environment = await LocalEnvironment.PrepareAsync(RepoPaths.Root, configuration, inMemoryStorage: true, CancellationToken.None);

        Assert.Equal(expected, environment.Settings.GetValueOrDefault("ImageJobs:InputMode"));
        Assert.Equal(expected is not null, environment.Notes.Any(n => n.Contains("temporary storage", StringComparison.Ordinal)));
    }
}
