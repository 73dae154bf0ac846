using System.Text.Json.Nodes;

namespace ImageJobs.DashScope.Tests;

/// <summary>The bodies the client builds and sends for the seeds' own examples equal the seeds' JSON.</summary>
public class GoldenRequestTests
{
    private static readonly string s_wanxPrompt = Golden.Object("Requests/000_wanx-v1_text.json")["input"]!["prompt"]!.GetValue<string>();
    private static readonly string s_qwenPrompt = Golden.Object("Requests/003_qwen-image-plus_async.json")["input"]!["prompt"]!.GetValue<string>();

    public static TheoryData<string> GoldenFiles() =>
    [
        "000_wanx-v1_text.json",
        "000_wanx-v1_ref_img.json",
        "001_wanx2.1-imageedit_description_edit_with_mask.json",
        "002_wan2.5-i2i-preview_two_images.json",
        "003_qwen-image-plus_async.json",
        "003_qwen-image-plus_sync_multimodal.json",
    ];

    private static void AssertJsonEqual(JsonNode expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"Expected {expected.ToJsonString()}\nActual   {actual.ToJsonString()}");

    [Fact]
    public void ToJson_WanxV1TextSeed000_EqualsGolden()
    {
        var request = new WanxTextToImageRequest(s_wanxPrompt) { N = 1, Style = WanxStyles.Watercolor, Size = WanxSizes.Square1024 };
        AssertJsonEqual(Golden.Object("Requests/000_wanx-v1_text.json"), request.ToJson());
    }

    [Fact]
    public void ToJson_WanxV1ReferenceSeed000_EqualsGolden()
    {
        var request = new WanxTextToImageRequest(s_wanxPrompt)
        {
            N = 1,
            Style = WanxStyles.Auto,
            Size = WanxSizes.Square1024,
            ReferenceMode = WanxRefModes.Repaint,
            ReferenceStrength = 1.0,
            ReferenceImage = "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20241031/rguyzt/girl.png",
        };
        AssertJsonEqual(Golden.Object("Requests/000_wanx-v1_ref_img.json"), request.ToJson());
    }

    [Fact]
    public void ToJson_ImageEditMaskSeed001_EqualsGolden()
    {
        var request = new WanxImageEditRequest(
            WanxImageEditFunctions.DescriptionEditWithMask,
            "陶瓷兔子拿著陶瓷小花",
            "http://wanx.alicdn.com/material/20250318/description_edit_with_mask_3.jpeg")
        {
            MaskImageUrl = "http://wanx.alicdn.com/material/20250318/description_edit_with_mask_3_mask.png",
            N = 1,
        };
        AssertJsonEqual(Golden.Object("Requests/001_wanx2.1-imageedit_description_edit_with_mask.json"), request.ToJson());
    }

    [Fact]
    public void ToJson_Wan25TwoImagesSeed002_EqualsGoldenWithNegativePromptInInput()
    {
        var request = new WanImageToImageRequest(
            "将图1中的闹钟放置到图2的餐桌的花瓶旁边位置",
            [
                "https://img.alicdn.com/imgextra/i3/O1CN0157XGE51l6iL9441yX_!!6000000004770-49-tps-1104-1472.webp",
                "https://img.alicdn.com/imgextra/i3/O1CN01SfG4J41UYn9WNt4X1_!!6000000002530-49-tps-1696-960.webp",
            ])
        {
            NegativePrompt = string.Empty,
            N = 1,
            Watermark = false,
            Seed = 12345,
        };
        var json = request.ToJson();
        AssertJsonEqual(Golden.Object("Requests/002_wan2.5-i2i-preview_two_images.json"), json);
        Assert.Equal(string.Empty, json["input"]!["negative_prompt"]!.GetValue<string>());
    }

    [Fact]
    public void ToJson_QwenAsyncSeed003_EqualsGolden()
    {
        var request = new QwenImageRequest(s_qwenPrompt) { Size = QwenImageSizes.Square, N = 1, PromptExtend = true, Watermark = false };
        AssertJsonEqual(Golden.Object("Requests/003_qwen-image-plus_async.json"), request.ToJson());
    }

    [Fact]
    public void ToMultimodalJson_QwenSyncSeed003_EqualsGoldenWithNegativePromptInParameters()
    {
        var request = new QwenImageRequest(s_qwenPrompt) { NegativePrompt = string.Empty, PromptExtend = true, Watermark = false, Size = QwenImageSizes.Square };
        var json = request.ToMultimodalJson();
        AssertJsonEqual(Golden.Object("Requests/003_qwen-image-plus_sync_multimodal.json"), json);
        Assert.NotNull(json["parameters"]!["negative_prompt"]);
        Assert.False(((JsonObject)json["input"]!).ContainsKey("negative_prompt"));
    }

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void FromJson_SeedBody_IsValidAndSerializesBackByteForByte(string file)
    {
        var compact = Golden.Object("Requests/" + file).ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        var request = DashScopeImageRequest.Parse(compact);
        Assert.Empty(request.Validate());
        Assert.Equal(compact, request.ToJsonString());
    }

    [Fact]
    public void FromJson_ModelInputParameters_KeepsNumberTextAndOrder()
    {
        var input = (JsonObject)JsonNode.Parse("""{"prompt":"x","ref_img":"https://e.com/a.png"}""")!;
        var parameters = (JsonObject)JsonNode.Parse("""{"ref_strength":1.0,"n":1,"ref_mode":"repaint"}""")!;
        var request = DashScopeImageRequest.FromJson(DashScopeModels.WanxV1, input, parameters);
        Assert.Equal(
            """{"model":"wanx-v1","input":{"prompt":"x","ref_img":"https://e.com/a.png"},"parameters":{"ref_strength":1.0,"n":1,"ref_mode":"repaint"}}""",
            request.ToJsonString());
        Assert.Empty(request.Validate());
    }

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public async Task SubmitOrGenerate_SeedBody_SendsGoldenBodyToRoutedEndpoint(string file)
    {
        var golden = Golden.Object("Requests/" + file);
        var isSync = file.Contains("_sync_", StringComparison.Ordinal);
        var response = isSync ? Golden.Text("Responses/003_qwen-image_sync_succeeded.json") : Golden.Text("Responses/003_qwen-image_submit_pending.json");
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(response));
        var client = TestClients.Create(server);
        var request = DashScopeImageRequest.FromJson(golden);
        if (isSync)
        {
            await client.GenerateAsync(request);
        }
        else
        {
            await client.SubmitAsync(request);
        }

        var sent = Assert.Single(server.Requests);
        AssertJsonEqual(golden, JsonNode.Parse(sent.Body)!);
        var model = golden["model"]!.GetValue<string>();
        var expectedPath = isSync
            ? "/api/v1/services/aigc/multimodal-generation/generation"
            : model is DashScopeModels.WanxImageEdit or DashScopeModels.Wan25ImageToImagePreview
                ? "/api/v1/services/aigc/image2image/image-synthesis"
                : "/api/v1/services/aigc/text2image/image-synthesis";
        Assert.Equal(expectedPath, sent.Path);
        Assert.Equal("POST", sent.Method);
        Assert.StartsWith("application/json", sent.Header("Content-Type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_TypedQwenRequest_SendsMultimodalBody()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/003_qwen-image_sync_succeeded.json")));
        var client = TestClients.Create(server);
        await client.GenerateAsync(new QwenImageRequest(s_qwenPrompt) { NegativePrompt = string.Empty, PromptExtend = true, Watermark = false, Size = QwenImageSizes.Square });
        AssertJsonEqual(Golden.Object("Requests/003_qwen-image-plus_sync_multimodal.json"), JsonNode.Parse(Assert.Single(server.Requests).Body)!);
    }

    [Fact]
    public void FromJson_NodesOwnedByAnotherDocument_AreCopiedNotMoved()
    {
        var job = Golden.Object("Requests/002_wan2.5-i2i-preview_two_images.json");
        var request = DashScopeImageRequest.FromJson(
            job["model"]!.GetValue<string>(), (JsonObject)job["input"]!, (JsonObject)job["parameters"]!);
        Assert.Empty(request.Validate());
        Assert.NotNull(job["input"]); // the caller's document is untouched
        ((JsonObject)job["input"]!)["prompt"] = "changed later";
        Assert.Equal("将图1中的闹钟放置到图2的餐桌的花瓶旁边位置", request.ToJson()["input"]!["prompt"]!.GetValue<string>());
    }
}
