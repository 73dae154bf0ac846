using System.Net;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>Auth, the async header rule, model lookup and per-model 400s.</summary>
public sealed class RequestValidationTests
{
    private static readonly string QwenBody = EmulatorClient.Body("qwen-image", new { prompt = "a cat" });

    [Fact]
    public async Task Submit_NoApiKey_401NoApiKeyProvided()
    {
        await using var emu = await EmulatorClient.StartAsync();
        emu.Http.DefaultRequestHeaders.Authorization = null;

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, QwenBody, apiKey: null);

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("InvalidApiKey", reply.Code);
        Assert.Equal("No API-key provided.", reply.Message);
        Assert.True(Guid.TryParse(reply.Json.GetProperty("request_id").GetString(), out _));
    }

    [Fact]
    public async Task Submit_WrongApiKey_401InvalidApiKey()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, QwenBody, apiKey: "sk-wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("InvalidApiKey", reply.Code);
        Assert.Equal("Invalid API-key provided.", reply.Message);
    }

    [Fact]
    public async Task GetTask_WrongApiKey_401()
    {
        await using var emu = await EmulatorClient.StartAsync();
        emu.Http.DefaultRequestHeaders.Authorization = new("Bearer", "sk-wrong");

        var reply = await emu.GetTaskAsync("whatever");

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("Invalid API-key provided.", reply.Message);
    }

    [Fact]
    public async Task Submit_WithoutAsyncHeader_403SynchronousNotSupported()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, QwenBody, isAsync: false);

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal("AccessDenied", reply.Code);
        Assert.Equal("current user api does not support synchronous calls", reply.Message);
    }

    [Fact]
    public async Task Multimodal_WithAsyncHeader_403AsynchronousNotSupported()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var body = EmulatorClient.Body("qwen-image", new { messages = new[] { new { role = "user", content = new[] { new { text = "x" } } } } });

        var reply = await emu.PostAsync(EmulatorClient.Multimodal, body, isAsync: true);

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal("AccessDenied", reply.Code);
        Assert.Equal("current user api does not support asynchronous calls", reply.Message);
    }

    [Fact]
    public async Task Submit_UnknownModel_404ModelNotFound()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v9", new { prompt = "x" }));

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("ModelNotFound", reply.Code);
    }

    [Theory]
    [InlineData(EmulatorClient.Image2Image, "wanx-v1")]
    [InlineData(EmulatorClient.Text2Image, "wan2.5-i2i-preview")]
    [InlineData(EmulatorClient.Multimodal, "wanx-v1")]
    public async Task Submit_ModelOnWrongRoute_400UrlError(string route, string model)
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(route, EmulatorClient.Body(model, new { prompt = "x" }), isAsync: route != EmulatorClient.Multimodal);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("InvalidParameter", reply.Code);
        Assert.Equal("url error, please check url!", reply.Message);
    }

    [Fact]
    public async Task Submit_UnknownEndpoint_404NotFoundJson()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync("services/aigc/video-generation/video-synthesis", QwenBody);

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("NotFound", reply.Code);
        Assert.True(reply.Json.TryGetProperty("request_id", out _));
    }

    [Fact]
    public async Task Submit_NoModel_400EmptyModel()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, """{"input":{"prompt":"x"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("BadRequest.EmptyModel", reply.Code);
    }

    [Theory]
    [InlineData("""{"model":"wanx-v1"}""")]
    [InlineData("""{"model":"wanx-v1","input":{}}""")]
    public async Task Submit_NoInput_400EmptyInput(string body)
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, body);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("BadRequest.EmptyInput", reply.Code);
    }

    [Fact]
    public async Task Submit_NotJson_400InvalidParameter()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, "{not json");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("InvalidParameter", reply.Code);
    }

    public static TheoryData<string, string, string> InvalidRequests()
    {
        var big = "data:image/png;base64," + Convert.ToBase64String(new byte[(10 * 1024 * 1024) + 1]);
        var small = ModelLifecycleTests.DataUri(100, 100);
        var https = "https://example.com/a.png";
        return new()
        {
            // wanx-v1
            { EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { n = 5 }), "parameters.n" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { n = 0 }), "parameters.n" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { style = "<pixel art>" }), "parameters.style" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { negative_prompt = "x" }), "input.prompt" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { ref_mode = "copy" }), "parameters.ref_mode" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { ref_strength = 1.5 }), "parameters.ref_strength" },
            // wanx2.1-imageedit
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { prompt = "x", base_image_url = https }), "input.function" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "remove_watermaker", prompt = "x", base_image_url = https }), "input.function" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "description_edit_with_mask", prompt = "x", base_image_url = https }), "input.mask_image_url" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "stylization_all", prompt = "x", base_image_url = https }, new { strength = 1.5 }), "parameters.strength" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "expand", prompt = "x", base_image_url = https }, new { top_scale = 2.5 }), "parameters.top_scale" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "super_resolution", prompt = "x", base_image_url = https }, new { upscale_factor = 5 }), "parameters.upscale_factor" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "colorization", prompt = "x", base_image_url = "data:image/png;base64" }), "data URI" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "colorization", prompt = "x", base_image_url = "data:image/gif;base64,AAAA" }), "image/gif" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "colorization", prompt = "x", base_image_url = big }), "10 MB" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "colorization", prompt = "x", base_image_url = small }), "between 512 and 4096" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wanx2.1-imageedit", new { function = "colorization", prompt = new string('x', 801), base_image_url = https }), "input.prompt" },
            // wan2.5-i2i-preview
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = Array.Empty<string>() }), "input.images" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = new[] { https, https, https, https } }), "input.images" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x" }), "input.images" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = new[] { https } }, new { size = "2048*2048" }), "total pixels" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = new[] { https } }, new { size = "512*512" }), "total pixels" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = new[] { https } }, new { size = "2000*400" }), "aspect ratio" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = new[] { https } }, new { size = "1024x1024" }), "parameters.size" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = new string('x', 2001), images = new[] { https } }), "input.prompt" },
            { EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview", new { prompt = "x", images = new[] { "data:image/tiff;base64,AAAA" } }), "image/tiff" },
            // qwen-image
            { EmulatorClient.Text2Image, EmulatorClient.Body("qwen-image", new { prompt = "x" }, new { n = 2 }), "num_images_per_prompt must be 1" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("qwen-image-plus", new { prompt = "x" }, new { size = "1024*1024" }), "parameters.size" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("qwen-image", new { prompt = "x" }, new { prompt_extend = "yes" }), "parameters.prompt_extend" },
            { EmulatorClient.Text2Image, EmulatorClient.Body("qwen-image", new { prompt = "x" }, new { seed = -1 }), "parameters.seed" },
            // sync multimodal
            { EmulatorClient.Multimodal, EmulatorClient.Body("qwen-image", new { messages = Array.Empty<object>() }), "input.messages" },
            { EmulatorClient.Multimodal, EmulatorClient.Body("qwen-image", new { messages = new[] { new { role = "user", content = new[] { new { text = "a" }, new { text = "b" } } } } }), "exactly one text" },
            { EmulatorClient.Multimodal, EmulatorClient.Body("qwen-image", new { messages = new[] { new { role = "system", content = new[] { new { text = "a" } } } } }), "role" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Submit_InvalidRequest_400WithUsefulMessage(string route, string body, string mentions)
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.EnableLimits = false);

        var reply = await emu.PostAsync(route, body, isAsync: route != EmulatorClient.Multimodal);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("InvalidParameter", reply.Code);
        Assert.Contains(mentions, reply.Message, StringComparison.Ordinal);
        Assert.Equal(0, emu.Host.Stats.Snapshot().Accepted);
    }

    [Fact]
    public async Task ImageEdit_FileUrl_400InvalidUrl()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Image2Image,
            EmulatorClient.Body("wanx2.1-imageedit", new { function = "colorization", prompt = "x", base_image_url = "file:///tmp/a.png" }));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("InvalidURL", reply.Code);
    }

    [Fact]
    public async Task WanxV1_LongPrompt_TruncatedNotRefused()
    {
        await using var emu = await EmulatorClient.StartAsync();

        var reply = await emu.PostAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = new string('x', 900) }, new { n = 1 }));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task WanxV1_UnsupportedSize_AcceptedThenFailedWithAllowedSizes()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image,
            EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { size = "512*512" }));

        var done = await emu.WaitAsync(id);

        var output = done.GetProperty("output");
        Assert.Equal("FAILED", output.GetProperty("task_status").GetString());
        Assert.Equal("InvalidParameter", output.GetProperty("code").GetString());
        Assert.Equal("The size is not match the allowed size ['1024*1024', '720*1280', '1280*720']", output.GetProperty("message").GetString());
        var metrics = output.GetProperty("task_metrics");
        Assert.Equal(4, metrics.GetProperty("TOTAL").GetInt32());
        Assert.Equal(0, metrics.GetProperty("SUCCEEDED").GetInt32());
        Assert.Equal(4, metrics.GetProperty("FAILED").GetInt32());
        Assert.False(output.TryGetProperty("results", out _));
        Assert.True(output.TryGetProperty("end_time", out _));
    }
}
