using static ImageJobs.DashScope.Tests.Emulator.EmulatorKit;

namespace ImageJobs.DashScope.Tests.Emulator;

/// <summary>Every model family end to end over loopback HTTP: submit → poll → SUCCEEDED → download PNGs of the asked size.</summary>
public class EmulatorModelTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly DashScopeClient _client = fixture.Client();

    [Theory]
    [InlineData(WanxSizes.Square1024, 1024, 1024, 1)]
    [InlineData(WanxSizes.Portrait720x1280, 720, 1280, 3)]
    [InlineData(WanxSizes.Landscape1280x720, 1280, 720, 2)]
    public async Task WanxV1_TextToImage_SucceedsWithNImagesOfTheSize(string size, int width, int height, int n)
    {
        var task = await RunToSuccessAsync(_client, new WanxTextToImageRequest("a red fox in the snow")
        {
            Size = size,
            N = n,
            Style = WanxStyles.Watercolor,
            Seed = 42,
        });

        Assert.Equal(n, task.Results.Count);
        Assert.All(task.Results, r => Assert.True(r.IsSuccess));
        Assert.All(task.Results, r => Assert.Null(r.OriginalPrompt)); // wanx-v1 echoes no prompt
        Assert.Equal(n, task.ImageUrls.Count);
        Assert.Equal(n, task.ImageUrls.Distinct().Count());
        Assert.Equal(n, task.Usage?.ImageCount);
        AssertMetrics(task, n, n, 0);
        await AssertImagesAsync(task.ImageUrls, width, height);
    }

    [Fact]
    public async Task WanxV1_NoN_DefaultsToFourImages()
    {
        var task = await RunToSuccessAsync(_client, new WanxTextToImageRequest("a lighthouse at dusk") { Size = WanxSizes.Portrait768x1152 });
        Assert.Equal(4, task.ImageUrls.Count);
        Assert.Equal(4, task.Usage?.ImageCount);
        AssertMetrics(task, 4, 4, 0);
        await AssertImagesAsync(task.ImageUrls, 768, 1152);
    }

    [Fact]
    public async Task WanxImageEdit_StylizationAll_OutputHasTheBaseImageSize()
    {
        var request = new WanxImageEditRequest(WanxImageEditFunctions.StylizationAll, "make it a pencil drawing", PngDataUri(600, 520))
        {
            N = 2,
            Strength = 0.7,
            Seed = 7,
        };
        var task = await RunToSuccessAsync(_client, request);
        Assert.Equal(2, task.ImageUrls.Count);
        Assert.Equal(2, task.Usage?.ImageCount);
        AssertMetrics(task, 2, 2, 0);
        await AssertImagesAsync(task.ImageUrls, 600, 520);
    }

    [Fact]
    public async Task WanxImageEdit_DescriptionEditWithMask_SucceedsAtTheBaseSize()
    {
        var request = new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEditWithMask, "put a hat on the cat", PngDataUri(640, 512))
        {
            MaskImageUrl = PngDataUri(640, 512),
            N = 1,
        };
        var task = await RunToSuccessAsync(_client, request);
        Assert.Single(task.ImageUrls);
        Assert.Equal(1, task.Usage?.ImageCount);
        AssertMetrics(task, 1, 1, 0);
        await AssertImagesAsync(task.ImageUrls, 640, 512);
    }

    [Fact]
    public async Task WanxImageEdit_Expand_GrowsTheCanvasByTheScales()
    {
        var request = new WanxImageEditRequest(WanxImageEditFunctions.Expand, "continue the landscape", PngDataUri(512, 512))
        {
            LeftScale = 1.5,
            RightScale = 1.25,
            TopScale = 1.25,
            N = 1,
        };
        var task = await RunToSuccessAsync(_client, request);
        Assert.Equal(1, task.Usage?.ImageCount);
        // width × (left + right − 1), height × (top + bottom − 1)
        await AssertImagesAsync(task.ImageUrls, 896, 640);
    }

    [Fact]
    public async Task WanxImageEdit_SuperResolution_MultipliesBothSides()
    {
        var request = new WanxImageEditRequest(WanxImageEditFunctions.SuperResolution, "sharpen", PngDataUri(600, 512))
        {
            UpscaleFactor = 2,
            N = 3,
        };
        var task = await RunToSuccessAsync(_client, request);
        Assert.Equal(3, task.ImageUrls.Count);
        Assert.Equal(3, task.Usage?.ImageCount);
        AssertMetrics(task, 3, 3, 0);
        await AssertImagesAsync(task.ImageUrls, 1200, 1024);
    }

    [Fact]
    public async Task Wan25_OneImageWithSize_SucceedsWithPromptEcho()
    {
        var request = new WanImageToImageRequest("turn the sky purple", [PngDataUri(400, 500)])
        {
            Size = "1024*1024",
            N = 2,
        };
        var task = await RunToSuccessAsync(_client, request);
        Assert.Equal(2, task.ImageUrls.Count);
        Assert.Equal(2, task.Usage?.ImageCount);
        AssertMetrics(task, 2, 2, 0);
        Assert.All(task.Results, r => Assert.Equal("turn the sky purple", r.OriginalPrompt));
        Assert.All(task.Results, r => Assert.False(string.IsNullOrEmpty(r.ActualPrompt))); // prompt_extend defaults to true
        await AssertImagesAsync(task.ImageUrls, 1024, 1024);
    }

    [Fact]
    public async Task Wan25_ThreeImagesWithoutSize_OutputFollowsTheLastImagesAspect()
    {
        var request = new WanImageToImageRequest("blend these three", [PngDataUri(384, 384), PngDataUri(500, 700), PngDataUri(800, 400)])
        {
            N = 1,
            PromptExtend = false,
        };
        var task = await RunToSuccessAsync(_client, request);
        var result = Assert.Single(task.Results);
        Assert.Equal("blend these three", result.OriginalPrompt);
        Assert.Null(result.ActualPrompt);
        Assert.Equal(1, task.Usage?.ImageCount);
        AssertMetrics(task, 1, 1, 0);

        // About 1280·1280 pixels at the last input's 2:1 aspect ratio.
        var png = await DownloadPngAsync(result.Url!);
        var pixels = (double)png.Width * png.Height;
        Assert.InRange(pixels, 0.98 * 1280 * 1280, 1280 * 1280);
        Assert.InRange((double)png.Width / png.Height, 1.99, 2.01);
    }

    [Theory]
    [InlineData(DashScopeModels.QwenImage, QwenImageSizes.Landscape16x9, 1664, 928, true)]
    [InlineData(DashScopeModels.QwenImagePlus, QwenImageSizes.Portrait9x16, 928, 1664, false)]
    [InlineData(DashScopeModels.QwenImagePlus, null, 1328, 1328, null)]
    public async Task Qwen_Async_SucceedsWithOneImageAndNoMetrics(string model, string? size, int width, int height, bool? promptExtend)
    {
        const string Prompt = "a bowl of ramen, studio light";
        var task = await RunToSuccessAsync(_client, new QwenImageRequest(Prompt, model)
        {
            Size = size,
            PromptExtend = promptExtend,
            NegativePrompt = "blurry",
        });

        var result = Assert.Single(task.Results);
        Assert.True(result.IsSuccess);
        Assert.Equal(Prompt, result.OriginalPrompt);
        Assert.Equal(promptExtend != false, result.ActualPrompt is not null);
        Assert.Equal(1, task.Usage?.ImageCount);
        Assert.Null(task.Metrics); // qwen responses carry no task_metrics
        await AssertImagesAsync(task.ImageUrls, width, height);
    }

    [Theory]
    [InlineData(DashScopeModels.QwenImage, QwenImageSizes.Landscape4x3, 1472, 1140)]
    [InlineData(DashScopeModels.QwenImagePlus, QwenImageSizes.Portrait3x4, 1140, 1472)]
    public async Task Qwen_SyncGenerate_ReturnsOneImageWithUsageAndMetric(string model, string size, int width, int height)
    {
        var result = await _client.GenerateAsync(new QwenImageRequest("a paper boat on a pond", model) { Size = size, NegativePrompt = "text" });

        var url = Assert.Single(result.ImageUrls);
        Assert.Equal("stop", result.FinishReason);
        Assert.False(string.IsNullOrEmpty(result.RequestId));
        Assert.Equal(1, result.Usage?.ImageCount);
        Assert.Equal(width, result.Usage?.Width);
        Assert.Equal(height, result.Usage?.Height);
        Assert.NotNull(result.Metrics);
        Assert.Equal((1, 1, 0), (result.Metrics.Total, result.Metrics.Succeeded, result.Metrics.Failed));
        await AssertImagesAsync([url], width, height);
    }

    [Fact]
    public async Task RawJsonRequest_FromDocumentationShape_Succeeds()
    {
        var body = System.Text.Json.Nodes.JsonNode.Parse(
            """{"model":"wanx-v1","input":{"prompt":"近景镜头，一只小猫"},"parameters":{"style":"<anime>","size":"1280*720","n":1}}""")!.AsObject();
        var task = await RunToSuccessAsync(_client, DashScopeImageRequest.FromJson(body));
        Assert.Equal(1, task.Usage?.ImageCount);
        await AssertImagesAsync(task.ImageUrls, 1280, 720);
    }

    [Fact]
    public async Task SameSeedAndRequest_PaintsTheSameImage()
    {
        DashScopeImageRequest Request() => new WanxTextToImageRequest("identical twins") { N = 1, Seed = 123, Size = WanxSizes.Square1024 };
        var first = await RunToSuccessAsync(_client, Request());
        var second = await RunToSuccessAsync(_client, Request());
        Assert.NotEqual(first.TaskId, second.TaskId);
        var a = await DownloadPngAsync(first.ImageUrls[0]);
        var b = await DownloadPngAsync(second.ImageUrls[0]);
        Assert.Equal(a.Bytes, b.Bytes);
    }

    private static void AssertMetrics(DashScopeTask task, int total, int succeeded, int failed)
    {
        Assert.NotNull(task.Metrics);
        Assert.Equal((total, succeeded, failed), (task.Metrics.Total, task.Metrics.Succeeded, task.Metrics.Failed));
    }
}
