using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using ImageJobs.DashScope;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Testing;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Provider;
using ImageJobs.Workflow.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.Workflow.Tests;

/// <summary>
/// <see cref="InputResolutionMode.TemporaryUpload"/>: when <c>Auto</c> picks it, what the resolver uploads (through the
/// outbound guard, against the emulator on Azurite), and that a retried submit sends the recorded <c>oss://</c> URLs
/// instead of uploading again.
/// </summary>
public sealed class TemporaryUploadTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string ImageEdit = DashScopeModels.WanxImageEdit;
    private static readonly byte[] Png = PngEncoder.Paint(640, 512, 5);

    private static InputResolver Resolver(BlobServiceClient blobs, InputResolutionMode mode, OutboundUrlGuard? guard = null) =>
        new(blobs, new ImageJobsOptions { InputMode = mode }, TimeProvider.System, guard);

    private async Task<(BlobServiceClient Blobs, string Reference)> BlobAsync(byte[] content, string name = "in/cat.png")
    {
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        var container = blobs.GetBlobContainerClient("inputs-" + Guid.NewGuid().ToString("N")[..8]);
        await container.CreateAsync();
        await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(content));
        return (blobs, $"blob:{container.Name}/{name}");
    }

    private static DashScopeClient Client(DashScopeEmulatorHost emu) =>
        new(new HttpClient(), new DashScopeClientOptions { Endpoint = emu.BaseAddress, ApiKey = "sk-test" });

    private static OutboundUrlGuard GuardAllowing(DashScopeEmulatorHost emu) =>
        new(new OutboundOptions { AllowedHosts = { emu.RootAddress.Authority } });

    [Fact]
    public void ModeFor_Auto_PrivateStorage_UploadsOnlyWhereDataUrisDoNotServe()
    {
        var resolver = Resolver(new BlobServiceClient(azurite.ConnectionString), InputResolutionMode.Auto);
        Assert.Equal(InputResolutionMode.TemporaryUpload, resolver.ModeFor(DashScopeModels.WanxV1, "input.ref_img", 1000));
        Assert.Equal(InputResolutionMode.DataUri, resolver.ModeFor(ImageEdit, "input.base_image_url", 1000));
        Assert.Equal(InputResolutionMode.TemporaryUpload, resolver.ModeFor(ImageEdit, "input.base_image_url", DashScopeModels.MaxInputImageBytes + 1L));
        Assert.Equal(InputResolutionMode.DataUri, resolver.ModeFor(DashScopeModels.Wan25ImageToImagePreview, "input.images[0]", DashScopeModels.MaxInputImageBytes));
    }

    [Fact]
    public void ModeFor_Auto_PublicStorage_SasUrl_AndForcedModesWin()
    {
        var publicBlobs = new BlobServiceClient(new Uri("https://imagejobsdemo.blob.core.windows.net"));
        Assert.Equal(InputResolutionMode.SasUrl, Resolver(publicBlobs, InputResolutionMode.Auto).ModeFor(DashScopeModels.WanxV1, "input.ref_img", 20_000_000));
        var local = new BlobServiceClient(azurite.ConnectionString);
        Assert.Equal(InputResolutionMode.TemporaryUpload, Resolver(local, InputResolutionMode.TemporaryUpload).ModeFor(ImageEdit, "input.base_image_url", 10));
        Assert.Equal(InputResolutionMode.DataUri, Resolver(local, InputResolutionMode.DataUri).ModeFor(DashScopeModels.WanxV1, "input.ref_img", 10));
    }

    [Fact]
    public async Task ResolveAsync_TemporaryUpload_SendsOssUrls_OnePolicyForAllImages()
    {
        await using var emu = await DashScopeEmulator.StartAsync();
        var (blobs, first) = await BlobAsync(Png);
        var container = first.Split('/')[0]["blob:".Length..];
        await blobs.GetBlobContainerClient(container).GetBlobClient("in/dog").UploadAsync(BinaryData.FromBytes(Png));
        var input = new JsonObject { ["prompt"] = "two", ["images"] = new JsonArray(first, $"blob:{container}/in/dog", "https://example.com/x.png") };

        var resolved = await Resolver(blobs, InputResolutionMode.TemporaryUpload, GuardAllowing(emu))
            .ResolveAsync(DashScopeModels.Wan25ImageToImagePreview, input, null, Client(emu), CancellationToken.None);

        var images = resolved.Input["images"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
        Assert.StartsWith("oss://dashscope-instant/", images[0], StringComparison.Ordinal);
        Assert.EndsWith("/0-cat.png", images[0], StringComparison.Ordinal);
        Assert.EndsWith("/1-dog.png", images[1], StringComparison.Ordinal); // no extension on the blob: taken from the bytes
        Assert.Equal("https://example.com/x.png", images[2]);
        Assert.Equal(["input.images[0]", "input.images[1]"], resolved.Uploads.Select(u => u.Field));
        Assert.Equal(first, resolved.Uploads[0].Source);
        Assert.Equal((1, 2), (emu.Stats.Snapshot().UploadPolicies, emu.Stats.Snapshot().FilesUploaded));
        Assert.StartsWith("blob:", input["images"]![0]!.GetValue<string>(), StringComparison.Ordinal); // the job's input is untouched
    }

    [Fact]
    public async Task ResolveAsync_EarlierUploadOfTheSameBlobAndField_IsReused_UnlessAboutToExpire()
    {
        await using var emu = await DashScopeEmulator.StartAsync();
        var (blobs, reference) = await BlobAsync(Png);
        var input = new JsonObject { ["prompt"] = "a cat", ["ref_img"] = reference };
        var resolver = Resolver(blobs, InputResolutionMode.Auto, GuardAllowing(emu));
        var first = await resolver.ResolveAsync(DashScopeModels.WanxV1, input, null, Client(emu), CancellationToken.None);
        Assert.Equal(1, emu.Stats.Snapshot().FilesUploaded); // Auto: wanx-v1 ref_img takes no data URI, Azurite is private

        var again = await resolver.ResolveAsync(DashScopeModels.WanxV1, input, first.Uploads, Client(emu), CancellationToken.None);
        Assert.Equal(first.Uploads, again.Uploads);
        Assert.Equal(first.Input["ref_img"]!.GetValue<string>(), again.Input["ref_img"]!.GetValue<string>());
        Assert.Equal(1, emu.Stats.Snapshot().FilesUploaded);

        var stale = first.Uploads.Select(u => u with { ExpiresAt = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(30) }).ToList();
        var renewed = await resolver.ResolveAsync(DashScopeModels.WanxV1, input, stale, Client(emu), CancellationToken.None);
        Assert.NotEqual(first.Input["ref_img"]!.GetValue<string>(), renewed.Input["ref_img"]!.GetValue<string>());
        Assert.Equal(2, emu.Stats.Snapshot().FilesUploaded);
    }

    [Fact]
    public async Task ResolveAsync_GuardRefusesTheUploadHost_NothingIsUploaded()
    {
        await using var emu = await DashScopeEmulator.StartAsync();
        var (blobs, reference) = await BlobAsync(Png);
        var resolver = Resolver(blobs, InputResolutionMode.TemporaryUpload, new OutboundUrlGuard(new OutboundOptions()));

        var ex = await Assert.ThrowsAsync<OutboundUrlRefusedException>(() => resolver.ResolveAsync(
            ImageEdit, new JsonObject { ["function"] = "stylization_all", ["prompt"] = "x", ["base_image_url"] = reference }, null, Client(emu), CancellationToken.None));
        Assert.Contains(emu.RootAddress.Authority, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, emu.Stats.Snapshot().FilesUploaded);
    }

    [Fact]
    public async Task ResolveAsync_MissingOrNonImageBlob_InputResolutionException()
    {
        await using var emu = await DashScopeEmulator.StartAsync();
        var (blobs, reference) = await BlobAsync("GIF89a not an accepted image"u8.ToArray());
        var resolver = Resolver(blobs, InputResolutionMode.TemporaryUpload, GuardAllowing(emu));
        var notImage = await Assert.ThrowsAsync<InputResolutionException>(() => resolver.ResolveAsync(
            DashScopeModels.WanxV1, new JsonObject { ["prompt"] = "x", ["ref_img"] = reference }, null, Client(emu), CancellationToken.None));
        Assert.Equal("input.ref_img", notImage.Field);
        var missing = await Assert.ThrowsAsync<InputResolutionException>(() => resolver.ResolveAsync(
            DashScopeModels.WanxV1, new JsonObject { ["prompt"] = "x", ["ref_img"] = reference + "-gone" }, null, Client(emu), CancellationToken.None));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Equal(0, emu.Stats.Snapshot().UploadPolicies);
    }

    [Fact]
    public async Task SubmitTask_RefusedThenRetried_UploadsOnce_SubmitsTheSameOssUrl_ThenReusesTheTask()
    {
        var (blobs, reference) = await BlobAsync(Png);
        var options = new ImageJobsOptions { InputMode = InputResolutionMode.TemporaryUpload, StateContainer = "state-" + Guid.NewGuid().ToString("N")[..8] };
        var state = new JobStateStore(blobs, options);
        var client = new ScriptedClient();
        var pacing = new ProviderPacing(state, TimeProvider.System, options);
        var activity = new SubmitTaskActivity(client, state, new InputResolver(blobs, options, TimeProvider.System), new DurationLearning(state, options, TimeProvider.System),
            pacing, options, TimeProvider.System, NullLogger<SubmitTaskActivity>.Instance);
        var job = new ImageJob
        {
            JobId = "oss-" + Guid.NewGuid().ToString("N")[..8],
            Model = ImageEdit,
            Input = new JsonObject { ["function"] = "stylization_all", ["prompt"] = "x", ["base_image_url"] = reference },
            Parameters = new JsonObject { ["n"] = 1 },
            Output = new JobOutput("results", string.Empty),
        };

        var throttled = await activity.RunAsync(new SubmitRequest(job), CancellationToken.None);
        Assert.Equal(("Throttling.RateQuota", true), (throttled.Error?.Code, throttled.Retryable));
        Assert.Null(throttled.SubmittedAt);
        var (kept, _) = await state.GetSubmissionAsync(job.JobId, CancellationToken.None);
        Assert.True(kept!.Refused);
        var upload = Assert.Single(kept.Uploads!);
        Assert.Equal(("input.base_image_url", reference), (upload.Field, upload.Source));

        var beforeSubmit = DateTimeOffset.UtcNow;
        var submitted = await activity.RunAsync(new SubmitRequest(job), CancellationToken.None);
        Assert.Equal(("task-1", false), (submitted.TaskId, submitted.Reused));
        Assert.InRange(submitted.SubmittedAt!.Value, beforeSubmit, DateTimeOffset.UtcNow); // when the provider accepted it
        Assert.Equal(1, client.Uploads);
        Assert.Equal(1, client.Policies);
        Assert.Equal([upload.Url, upload.Url], client.SubmittedBaseImages);

        var replayed = await activity.RunAsync(new SubmitRequest(job), CancellationToken.None);
        Assert.Equal(("task-1", true), (replayed.TaskId, replayed.Reused));
        Assert.Equal(submitted.SubmittedAt, replayed.SubmittedAt); // a reused task keeps its first acceptance time
        Assert.Equal((1, 2), (client.Uploads, client.SubmittedBaseImages.Count));
        var (record, _) = await state.GetSubmissionAsync(job.JobId, CancellationToken.None);
        Assert.Equal((2, false), (record!.Attempts, record.Refused));
        Assert.Equal(upload, Assert.Single(record.Uploads!));
    }

    [Fact]
    public async Task SubmitTask_SlotPassesWhileUploading_PacedThenSendsTheFilesUploadedOnce()
    {
        var (blobs, reference) = await BlobAsync(Png);
        var options = new ImageJobsOptions { InputMode = InputResolutionMode.TemporaryUpload, StateContainer = "state-" + Guid.NewGuid().ToString("N")[..8] };
        var state = new JobStateStore(blobs, options);
        var pacing = new ProviderPacing(state, TimeProvider.System, options);
        var otherInstance = new ProviderPacing(state, TimeProvider.System, options);
        Assert.True(DashScopeModels.TryGetProfile(ImageEdit, out var profile));
        var crowd = (int)Math.Ceiling((ProviderPacing.MaxInlineWait + TimeSpan.FromSeconds(1)) / pacing.Interval(profile.SubmitRequestsPerSecond)) + 1;
        var client = new ScriptedClient
        {
            // While this job uploads, other jobs fill its model's lane and its slot passes: the next free one is further
            // away than an activity waits in place.
            DuringUpload = async () =>
            {
                await Task.WhenAll(Enumerable.Range(0, crowd).Select(i => otherInstance.ReserveSubmitAsync(ImageEdit, $"other-{i}", null, CancellationToken.None)));
                await Task.Delay(pacing.LateTolerance + TimeSpan.FromMilliseconds(200));
            },
        };
        var activity = new SubmitTaskActivity(client, state, new InputResolver(blobs, options, TimeProvider.System), new DurationLearning(state, options, TimeProvider.System),
            pacing, options, TimeProvider.System, NullLogger<SubmitTaskActivity>.Instance);
        var job = new ImageJob
        {
            JobId = "oss-paced-" + Guid.NewGuid().ToString("N")[..8],
            Model = ImageEdit,
            Input = new JsonObject { ["function"] = "stylization_all", ["prompt"] = "x", ["base_image_url"] = reference },
            Parameters = new JsonObject { ["n"] = 1 },
            Output = new JobOutput("results", string.Empty),
        };

        var paced = await activity.RunAsync(new SubmitRequest(job), CancellationToken.None);
        // Waiting for a slot is not a failure: no error, no task, a slot to come back with.
        Assert.Null(paced.Error);
        Assert.Null(paced.TaskId);
        var slot = paced.ReservedSlot!.Value;
        Assert.Empty(client.SubmittedBaseImages);

        // Kept as a submit never sent: its upload recorded, no attempt counted, nothing for a retry to fear was paid.
        var (kept, _) = await state.GetSubmissionAsync(job.JobId, CancellationToken.None);
        Assert.NotNull(kept);
        Assert.Equal((null, 0, true), (kept.TaskId, kept.Attempts, kept.Refused));
        var upload = Assert.Single(kept.Uploads!);
        Assert.Equal(("input.base_image_url", reference), (upload.Field, upload.Source));

        // The orchestration comes back ahead of the slot with it; the submit then sends the file uploaded before.
        client.DuringUpload = null;
        var wake = slot - ProviderPacing.MaxInlineWait + TimeSpan.FromMilliseconds(500) - DateTimeOffset.UtcNow;
        if (wake > TimeSpan.Zero)
        {
            await Task.Delay(wake);
        }

        var sent = await activity.RunAsync(new SubmitRequest(job, slot), CancellationToken.None);
        Assert.Equal("Throttling.RateQuota", sent.Error?.Code); // the scripted provider's first answer: it was sent
        Assert.Equal((1, 1), (client.Uploads, client.Policies));
        Assert.Equal([upload.Url], client.SubmittedBaseImages);
        var (after, _) = await state.GetSubmissionAsync(job.JobId, CancellationToken.None);
        Assert.Equal((1, true), (after!.Attempts, after.Refused));
    }

    /// <summary>A client whose first submit is answered 429 and whose uploads are only counted (nothing leaves the process).</summary>
    private sealed class ScriptedClient : DashScopeClient
    {
        private readonly SubmitHandler _handler;

        public ScriptedClient()
            : this(new SubmitHandler())
        {
        }

        private ScriptedClient(SubmitHandler handler)
            : base(new HttpClient(handler), new DashScopeClientOptions { Endpoint = new Uri("https://dashscope.invalid/api/v1"), ApiKey = "sk-test" }) =>
            _handler = handler;

        public int Policies { get; private set; }

        public int Uploads { get; private set; }

        /// <summary>Runs during each upload, before it completes.</summary>
        public Func<Task>? DuringUpload { get; set; }

        public List<string> SubmittedBaseImages => _handler.Seen;

        public override Task<DashScopeUploadPolicy> GetUploadPolicyAsync(string model, CancellationToken cancellationToken = default)
        {
            Policies++;
            return Task.FromResult(new DashScopeUploadPolicy(model, new Uri("https://dashscope-file-mgr.oss-cn-beijing.aliyuncs.com"),
                $"dashscope-instant/acct/2026-12-01/p{Policies}", "cG9saWN5", "c2ln", "LTAI", "private", "true", DateTimeOffset.UtcNow.AddMinutes(5), 1024, "r"));
        }

        public override async Task<DashScopeTemporaryFile> UploadTemporaryFileAsync(
            DashScopeUploadPolicy policy, Stream content, string fileName, string contentType, CancellationToken cancellationToken = default)
        {
            Uploads++;
            if (DuringUpload is { } during)
            {
                await during();
            }

            return new DashScopeTemporaryFile($"oss://{policy.UploadDirectory}/{fileName}", policy.Model, DateTimeOffset.UtcNow.AddHours(48));
        }
    }

    private sealed class SubmitHandler : HttpMessageHandler
    {
        public List<string> Seen { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!;
            Assert.Equal("enable", request.Headers.GetValues(DashScopeClient.OssResourceResolveHeader).Single());
            Seen.Add(body["input"]!["base_image_url"]!.GetValue<string>());
            return Seen.Count == 1
                ? new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests)
                {
                    Content = new StringContent("""{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later.","request_id":"r1"}"""),
                }
                : new HttpResponseMessage(System.Net.HttpStatusCode.OK)
                {
                    Content = new StringContent("""{"output":{"task_status":"PENDING","task_id":"task-1"},"request_id":"r2"}"""),
                };
        }
    }
}
