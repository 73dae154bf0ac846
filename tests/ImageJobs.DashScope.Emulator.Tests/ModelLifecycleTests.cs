using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>Submit → poll → SUCCEEDED → download, for every model family, on real time scaled by 0.002.</summary>
public sealed partial class ModelLifecycleTests
{
    private const string PngDataUri2To1 = "data:image/png;base64,";

    [Fact]
    public async Task WanxV1_SubmitPollDownload_ImagesHaveRequestedSize()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image,
            EmulatorClient.Body("wanx-v1", new { prompt = "a lighthouse at dusk" }, new { size = "720*1280", n = 2, style = "<watercolor>" }));

        var done = await emu.WaitAsync(id);

        var output = done.GetProperty("output");
        Assert.Equal("SUCCEEDED", output.GetProperty("task_status").GetString());
        Assert.Equal(id, output.GetProperty("task_id").GetString());
        Assert.Matches(TimeFormat(), output.GetProperty("submit_time").GetString()!);
        Assert.Matches(TimeFormat(), output.GetProperty("scheduled_time").GetString()!);
        Assert.Matches(TimeFormat(), output.GetProperty("end_time").GetString()!);
        Assert.Equal(2, output.GetProperty("task_metrics").GetProperty("TOTAL").GetInt32());
        Assert.Equal(2, output.GetProperty("task_metrics").GetProperty("SUCCEEDED").GetInt32());
        Assert.Equal(0, output.GetProperty("task_metrics").GetProperty("FAILED").GetInt32());
        Assert.Equal(2, done.GetProperty("usage").GetProperty("image_count").GetInt32());
        Assert.True(done.TryGetProperty("request_id", out _));
        var results = output.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        Assert.False(results[0].TryGetProperty("orig_prompt", out _)); // wanx-v1 results carry only url
        var images = new List<byte[]>();
        foreach (var result in results)
        {
            var url = result.GetProperty("url").GetString()!;
            Assert.Matches(@"\.png\?Expires=\d+&OSSAccessKeyId=[^&]+&Signature=.+$", url);
            var (status, png) = await emu.DownloadAsync(url);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal((720, 1280), EmulatorClient.PngSize(png));
            images.Add(png);
        }

        Assert.NotEqual(images[0], images[1]); // seed+i paints a different picture
    }

    [Fact]
    public async Task WanxV1_DefaultParameters_FourImagesOf1024()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "a fox" }));

        var output = (await emu.WaitAsync(id)).GetProperty("output");

        Assert.Equal(4, output.GetProperty("results").GetArrayLength());
        var (_, png) = await emu.DownloadAsync(output.GetProperty("results")[3].GetProperty("url").GetString()!);
        Assert.Equal((1024, 1024), EmulatorClient.PngSize(png));
    }

    [Fact]
    public async Task ImageEdit_SuperResolutionOfPngDataUri_OutputIsUpscaled()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var input = new { function = "super_resolution", prompt = "sharpen", base_image_url = DataUri(600, 512) };
        var id = await emu.SubmitAsync(EmulatorClient.Image2Image,
            EmulatorClient.Body("wanx2.1-imageedit", input, new { upscale_factor = 2 }));

        var done = await emu.WaitAsync(id);

        var output = done.GetProperty("output");
        Assert.Equal("SUCCEEDED", output.GetProperty("task_status").GetString());
        Assert.Equal(1, output.GetProperty("results").GetArrayLength()); // n defaults to 1
        var (status, png) = await emu.DownloadAsync(output.GetProperty("results")[0].GetProperty("url").GetString()!);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((1200, 1024), EmulatorClient.PngSize(png));
    }

    [Fact]
    public async Task ImageEdit_UrlInput_DefaultsTo1024()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var input = new
        {
            function = "description_edit_with_mask",
            prompt = "a hat",
            base_image_url = "http://wanx.alicdn.com/material/20250318/description_edit_with_mask_3.jpeg",
            mask_image_url = "http://wanx.alicdn.com/material/20250318/description_edit_with_mask_3_mask.png",
        };
        var id = await emu.SubmitAsync(EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", input, new { n = 1 }));

        var output = (await emu.WaitAsync(id)).GetProperty("output");

        var (_, png) = await emu.DownloadAsync(output.GetProperty("results")[0].GetProperty("url").GetString()!);
        Assert.Equal((1024, 1024), EmulatorClient.PngSize(png));
    }

    [Fact]
    public async Task Wan25_SizeOmitted_FollowsLastInputAspectAtAbout1280Squared()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var input = new { prompt = "put the clock next to the vase", images = new[] { "https://example.com/a.png", DataUri(800, 400) } };
        var id = await emu.SubmitAsync(EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", input, new { n = 1 }));

        var output = (await emu.WaitAsync(id)).GetProperty("output");

        Assert.Equal("SUCCEEDED", output.GetProperty("task_status").GetString());
        var result = output.GetProperty("results")[0];
        Assert.Equal("put the clock next to the vase", result.GetProperty("orig_prompt").GetString());
        Assert.True(result.TryGetProperty("actual_prompt", out _)); // prompt_extend defaults to true
        var (_, png) = await emu.DownloadAsync(result.GetProperty("url").GetString()!);
        var (width, height) = EmulatorClient.PngSize(png);
        Assert.Equal(2.0, (double)width / height, 2);
        Assert.InRange(width * height, 1200 * 1200, 1280 * 1280);
    }

    [Fact]
    public async Task Wan25_NoInputSizeKnown_Is1280Square()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var input = new { prompt = "a garden", images = new[] { "https://example.com/a.jpg" } };
        var id = await emu.SubmitAsync(EmulatorClient.Image2Image,
            EmulatorClient.Body("wan2.5-i2i-preview", input, new { n = 1, prompt_extend = false }));

        var output = (await emu.WaitAsync(id)).GetProperty("output");

        var result = output.GetProperty("results")[0];
        Assert.False(result.TryGetProperty("actual_prompt", out _));
        var (_, png) = await emu.DownloadAsync(result.GetProperty("url").GetString()!);
        Assert.Equal((1280, 1280), EmulatorClient.PngSize(png));
    }

    [Theory]
    [InlineData("qwen-image", null, 1328, 1328)]
    [InlineData("qwen-image-plus", "928*1664", 928, 1664)]
    public async Task Qwen_Async_SucceedsWithPromptsAndNoTaskMetrics(string model, string? size, int width, int height)
    {
        await using var emu = await EmulatorClient.StartAsync();
        var body = size is null
            ? EmulatorClient.Body(model, new { prompt = "三只小狗在草地上玩球" })
            : EmulatorClient.Body(model, new { prompt = "三只小狗在草地上玩球" }, new { size, n = 1 });
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, body);

        var done = await emu.WaitAsync(id);

        var output = done.GetProperty("output");
        Assert.Equal("SUCCEEDED", output.GetProperty("task_status").GetString());
        Assert.False(output.TryGetProperty("task_metrics", out _));
        var result = output.GetProperty("results")[0];
        Assert.Equal("三只小狗在草地上玩球", result.GetProperty("orig_prompt").GetString());
        Assert.StartsWith("三只小狗在草地上玩球", result.GetProperty("actual_prompt").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, done.GetProperty("usage").GetProperty("image_count").GetInt32());
        var (_, png) = await emu.DownloadAsync(result.GetProperty("url").GetString()!);
        Assert.Equal((width, height), EmulatorClient.PngSize(png));
    }

    [Fact]
    public async Task Multimodal_SyncCall_ReturnsImageAndUsage()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var input = new { messages = new[] { new { role = "user", content = new[] { new { text = "a puppy poster" } } } } };

        var reply = await emu.PostAsync(EmulatorClient.Multimodal,
            EmulatorClient.Body("qwen-image-plus", input, new { size = "1472*1140", negative_prompt = "" }), isAsync: false);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var choice = reply.Output.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        var url = choice.GetProperty("message").GetProperty("content")[0].GetProperty("image").GetString()!;
        Assert.Equal(1, reply.Output.GetProperty("task_metric").GetProperty("SUCCEEDED").GetInt32());
        var usage = reply.Json.GetProperty("usage");
        Assert.Equal(1472, usage.GetProperty("width").GetInt32());
        Assert.Equal(1140, usage.GetProperty("height").GetInt32());
        Assert.Equal(1, usage.GetProperty("image_count").GetInt32());
        var (status, png) = await emu.DownloadAsync(url);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((1472, 1140), EmulatorClient.PngSize(png));
        Assert.Equal(1, emu.Host.Stats.Snapshot().SyncCalls);
    }

    [Fact]
    public async Task SameSeedAndPrompt_TwoEmulators_SameImageBytes()
    {
        var first = await RenderAsync();
        var second = await RenderAsync();

        Assert.Equal(first, second);

        static async Task<byte[]> RenderAsync()
        {
            await using var emu = await EmulatorClient.StartAsync();
            var id = await emu.SubmitAsync(EmulatorClient.Text2Image,
                EmulatorClient.Body("qwen-image", new { prompt = "same" }, new { seed = 42, size = "1664*928" }));
            var output = (await emu.WaitAsync(id)).GetProperty("output");
            return (await emu.DownloadAsync(output.GetProperty("results")[0].GetProperty("url").GetString()!)).Bytes;
        }
    }

    /// <summary>A real PNG of the given size, as a data URI.</summary>
    internal static string DataUri(int width, int height) =>
        PngDataUri2To1 + Convert.ToBase64String(PngEncoder.Paint(width, height, 7));

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")]
    private static partial Regex TimeFormat();
}
