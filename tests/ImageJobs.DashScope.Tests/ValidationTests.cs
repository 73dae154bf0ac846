using System.Text.Json.Nodes;

namespace ImageJobs.DashScope.Tests;

public class ValidationTests
{
    private const string Url = "https://example.com/a.png";
    private static readonly byte[] s_png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];
    private static readonly byte[] s_tiff = [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0];

    private static DashScopeValidationError Single(DashScopeImageRequest request, string field)
    {
        var errors = request.Validate();
        var error = Assert.Single(errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        return error;
    }

    private static DashScopeValidationError SingleRaw(string json, string field)
    {
        var errors = DashScopeImageRequest.Parse(json).Validate();
        var error = Assert.Single(errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        return error;
    }

    // ---- valid requests of every family ----

    [Fact]
    public void Validate_ValidRequestOfEveryFamily_ReturnsNoErrors()
    {
        DashScopeImageRequest[] requests =
        [
            new WanxTextToImageRequest("a cat") { Style = WanxStyles.Anime, Size = WanxSizes.Portrait768x1152, N = 4, Seed = 2147483647, NegativePrompt = "blur" },
            new WanxTextToImageRequest("a cat") { ReferenceImage = Url, ReferenceMode = WanxRefModes.RefOnly, ReferenceStrength = 0.0 },
            new WanxImageEditRequest(WanxImageEditFunctions.StylizationAll, "French picture book", Url) { Strength = 1.0, N = 1, Seed = 0, Watermark = true },
            new WanxImageEditRequest(WanxImageEditFunctions.Expand, "a fairy", Url) { TopScale = 1.5, BottomScale = 2.0, LeftScale = 1.0, RightScale = 1.2 },
            new WanxImageEditRequest(WanxImageEditFunctions.SuperResolution, "sharpen", Url) { UpscaleFactor = 4 },
            new WanxImageEditRequest(WanxImageEditFunctions.Doodle, "living room", Url) { IsSketch = true },
            new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEditWithMask, "rabbit", Url) { MaskImageUrl = Url },
            new WanxImageEditRequest(WanxImageEditFunctions.RemoveWatermark, "remove text", DashScopeImageData.ToDataUri(s_tiff)),
            new WanImageToImageRequest("merge", [Url, DashScopeImageData.ToDataUri(s_png), Url]) { Size = "1280*1280", N = 2, PromptExtend = false, Watermark = false },
            new WanImageToImageRequest("edit", [Url]) { Size = "1536*384" },
            new QwenImageRequest("poster") { Size = QwenImageSizes.Portrait9x16, N = 1, PromptExtend = true, Watermark = false, Seed = 42, NegativePrompt = "ugly" },
            new QwenImageRequest("poster", DashScopeModels.QwenImage),
        ];
        foreach (var request in requests)
        {
            Assert.Empty(request.Validate());
        }
    }

    [Fact]
    public void Validate_EveryImageEditFunction_IsAccepted()
    {
        foreach (var function in WanxImageEditFunctions.All)
        {
            var request = new WanxImageEditRequest(function, "p", Url)
            {
                MaskImageUrl = function == WanxImageEditFunctions.DescriptionEditWithMask ? Url : null,
            };
            Assert.Empty(request.Validate());
        }

        Assert.Equal(10, WanxImageEditFunctions.All.Count);
        Assert.Contains("remove_watermark", WanxImageEditFunctions.All);
    }

    [Fact]
    public void Validate_QwenSyncBody_ReturnsNoErrors()
    {
        var body = new QwenImageRequest("poster") { NegativePrompt = "", Size = QwenImageSizes.Square }.ToMultimodalJson();
        Assert.Empty(DashScopeRequestValidator.Validate(body));
    }

    // ---- model and shape ----

    [Fact]
    public void Validate_UnknownModel_NamesModelAndAllowedValues()
    {
        var error = SingleRaw("""{"model":"wanx-v9","input":{"prompt":"x"}}""", "model");
        Assert.Contains("'wanx-v1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'qwen-image-plus'", error.Message, StringComparison.Ordinal);
        Assert.Contains("wanx-v9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingModel_ReportsModelRequired()
    {
        var error = SingleRaw("""{"input":{"prompt":"x"}}""", "model");
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingInput_ReportsInputRequired()
    {
        var error = SingleRaw("""{"model":"wanx-v1"}""", "input");
        Assert.Contains("input is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NotJson_ThrowsValidationException()
    {
        var ex = Assert.Throws<DashScopeValidationException>(() => DashScopeImageRequest.Parse("{not json"));
        Assert.Equal("$", Assert.Single(ex.Errors).Field);
    }

    // ---- prompts ----

    [Fact]
    public void Validate_WanxPromptMissing_ReportsInputPromptRequired()
    {
        var error = Single(new WanxTextToImageRequest(""), "input.prompt");
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WanxPromptOver800_ReportsLimit()
    {
        var error = Single(new WanxTextToImageRequest(new string('字', 801)), "input.prompt");
        Assert.Contains("at most 800 characters; got 801", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WanxPromptOf800Chinese_Passes() =>
        Assert.Empty(new WanxTextToImageRequest(new string('字', 800)).Validate());

    [Fact]
    public void Validate_NegativePromptOver500_ReportsLimit()
    {
        var error = Single(new WanxTextToImageRequest("x") { NegativePrompt = new string('n', 501) }, "input.negative_prompt");
        Assert.Contains("at most 500", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Wan25PromptOver2000_ReportsLimit()
    {
        var error = Single(new WanImageToImageRequest(new string('p', 2001), [Url]), "input.prompt");
        Assert.Contains("at most 2000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_QwenPromptOver800_ReportsLimit()
    {
        var error = Single(new QwenImageRequest(new string('p', 801)), "input.prompt");
        Assert.Contains("at most 800", error.Message, StringComparison.Ordinal);
    }

    // ---- enums ----

    [Fact]
    public void Validate_WanxBadStyle_ListsAllowedStyles()
    {
        var error = Single(new WanxTextToImageRequest("x") { Style = "<cubism>" }, "parameters.style");
        foreach (var style in WanxStyles.All)
        {
            Assert.Contains($"'{style}'", error.Message, StringComparison.Ordinal);
        }

        Assert.Contains("<cubism>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WanxBadSize_ListsAllowedSizes()
    {
        var error = Single(new WanxTextToImageRequest("x") { Size = "1328*1328" }, "parameters.size");
        Assert.Contains("'1024*1024', '720*1280', '768*1152', '1280*720'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_QwenBadSize_ListsAllowedSizes()
    {
        var error = Single(new QwenImageRequest("x") { Size = "1024*1024" }, "parameters.size");
        Assert.Contains("'1664*928', '1472*1140', '1328*1328', '1140*1472', '928*1664'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadRefMode_ListsAllowedModes()
    {
        var error = Single(new WanxTextToImageRequest("x") { ReferenceImage = Url, ReferenceMode = "copy" }, "parameters.ref_mode");
        Assert.Contains("'repaint', 'refonly'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadFunction_ListsAllTenFunctions()
    {
        var error = Single(new WanxImageEditRequest("remove_watermaker", "x", Url), "input.function");
        foreach (var function in WanxImageEditFunctions.All)
        {
            Assert.Contains($"'{function}'", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_MissingFunction_ReportsRequired()
    {
        var error = SingleRaw("""{"model":"wanx2.1-imageedit","input":{"prompt":"x","base_image_url":"https://e.com/a.png"}}""", "input.function");
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
    }

    // ---- numbers ----

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Validate_WanxNOutOfRange_ReportsRange(int n)
    {
        var error = Single(new WanxTextToImageRequest("x") { N = n }, "parameters.n");
        Assert.Contains("integer from 1 to 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Wan25NOutOfRange_ReportsRange()
    {
        var error = Single(new WanImageToImageRequest("x", [Url]) { N = 5 }, "parameters.n");
        Assert.Contains("integer from 1 to 4; got 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ImageEditNOutOfRange_ReportsRange() =>
        Single(new WanxImageEditRequest(WanxImageEditFunctions.Colorization, "x", Url) { N = 9 }, "parameters.n");

    [Fact]
    public void Validate_QwenNNotOne_ReportsMustBeOne()
    {
        var error = Single(new QwenImageRequest("x") { N = 2 }, "parameters.n");
        Assert.Contains("must be 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeSeed_ReportsRange()
    {
        var error = Single(new QwenImageRequest("x") { Seed = -1 }, "parameters.seed");
        Assert.Contains("from 0 to 2147483647", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeedAboveInt32_ReportsRange()
    {
        var error = SingleRaw("""{"model":"wanx-v1","input":{"prompt":"x"},"parameters":{"seed":2147483648}}""", "parameters.seed");
        Assert.Contains("from 0 to 2147483647; got 2147483648", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_FractionalN_ReportsInteger() =>
        SingleRaw("""{"model":"wanx-v1","input":{"prompt":"x"},"parameters":{"n":1.5}}""", "parameters.n");

    [Fact]
    public void Validate_RefStrengthOutOfRange_ReportsRange()
    {
        var error = Single(new WanxTextToImageRequest("x") { ReferenceImage = Url, ReferenceStrength = 1.5 }, "parameters.ref_strength");
        Assert.Contains("from 0.0 to 1.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_StrengthOutOfRange_ReportsRange()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEdit, "x", Url) { Strength = -0.1 }, "parameters.strength");
        Assert.Contains("from 0.0 to 1.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ScaleOutOfRange_ReportsRange()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.Expand, "x", Url) { LeftScale = 2.5 }, "parameters.left_scale");
        Assert.Contains("from 1.0 to 2.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UpscaleFactorOutOfRange_ReportsRange()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.SuperResolution, "x", Url) { UpscaleFactor = 5 }, "parameters.upscale_factor");
        Assert.Contains("from 1 to 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NonBooleanWatermark_ReportsBoolean()
    {
        var error = SingleRaw("""{"model":"qwen-image","input":{"prompt":"x"},"parameters":{"watermark":"false"}}""", "parameters.watermark");
        Assert.Contains("true or false", error.Message, StringComparison.Ordinal);
    }

    // ---- masks and function-specific parameters ----

    [Fact]
    public void Validate_MaskedEditWithoutMask_ReportsMaskRequired()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEditWithMask, "x", Url), "input.mask_image_url");
        Assert.Contains("required when input.function is 'description_edit_with_mask'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MaskOnOtherFunction_ReportsMaskRefused()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.StylizationAll, "x", Url) { MaskImageUrl = Url }, "input.mask_image_url");
        Assert.Contains("only when input.function is 'description_edit_with_mask'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_StrengthOnExpand_ReportsWhichFunctionsTakeIt()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.Expand, "x", Url) { Strength = 0.5 }, "parameters.strength");
        Assert.Contains("'stylization_all' or 'description_edit'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'expand'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ScaleOnDescriptionEdit_ReportsExpandOnly()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.DescriptionEdit, "x", Url) { TopScale = 1.5 }, "parameters.top_scale");
        Assert.Contains("'expand'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UpscaleOnColorization_ReportsSuperResolutionOnly()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.Colorization, "x", Url) { UpscaleFactor = 2 }, "parameters.upscale_factor");
        Assert.Contains("'super_resolution'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IsSketchOnStylization_ReportsDoodleOnly()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.StylizationLocal, "x", Url) { IsSketch = false }, "parameters.is_sketch");
        Assert.Contains("'doodle'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RefModeWithoutRefImage_ReportsNeedsReferenceImage()
    {
        var error = Single(new WanxTextToImageRequest("x") { ReferenceMode = WanxRefModes.Repaint }, "parameters.ref_mode");
        Assert.Contains("input.ref_img", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownParameter_ListsKnownParameters()
    {
        var error = SingleRaw("""{"model":"wanx-v1","input":{"prompt":"x"},"parameters":{"negativ_prompt":"x"}}""", "parameters.negativ_prompt");
        Assert.Contains("style, size, n, seed, ref_strength, ref_mode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_QwenAsyncNegativePromptInParameters_PointsToInput()
    {
        var error = SingleRaw("""{"model":"qwen-image-plus","input":{"prompt":"x"},"parameters":{"negative_prompt":""}}""", "parameters.negative_prompt");
        Assert.Contains("input.negative_prompt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_QwenSyncNegativePromptInInput_PointsToParameters()
    {
        var error = SingleRaw(
            """{"model":"qwen-image-plus","input":{"messages":[{"role":"user","content":[{"text":"x"}]}],"negative_prompt":""}}""",
            "input.negative_prompt");
        Assert.Contains("parameters.negative_prompt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_QwenSyncTwoMessages_ReportsExactlyOne()
    {
        var error = SingleRaw(
            """{"model":"qwen-image","input":{"messages":[{"role":"user","content":[{"text":"x"}]},{"role":"user","content":[{"text":"y"}]}]}}""",
            "input.messages");
        Assert.Contains("exactly one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_QwenSyncAssistantRole_ReportsUser()
    {
        var error = SingleRaw(
            """{"model":"qwen-image","input":{"messages":[{"role":"assistant","content":[{"text":"x"}]}]}}""", "input.messages[0].role");
        Assert.Contains("'user'", error.Message, StringComparison.Ordinal);
    }

    // ---- images ----

    [Fact]
    public void Validate_NoImages_ReportsRequired() =>
        Assert.Contains("1 to 3", Single(new WanImageToImageRequest("x", []), "input.images").Message, StringComparison.Ordinal);

    [Fact]
    public void Validate_FourImages_ReportsOneToThree()
    {
        var error = Single(new WanImageToImageRequest("x", [Url, Url, Url, Url]), "input.images");
        Assert.Contains("1 to 3 images; got 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingImages_ReportsRequired() =>
        SingleRaw("""{"model":"wan2.5-i2i-preview","input":{"prompt":"x"}}""", "input.images");

    [Fact]
    public void Validate_MissingBaseImage_ReportsRequired() =>
        SingleRaw("""{"model":"wanx2.1-imageedit","input":{"function":"colorization","prompt":"x"}}""", "input.base_image_url");

    [Fact]
    public void Validate_FtpImage_ReportsUrlOrDataUri()
    {
        var error = Single(new WanImageToImageRequest("x", [Url, "ftp://example.com/a.png"]), "input.images[1]");
        Assert.Contains("http(s) URL or a data URI", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RelativeRefImage_ReportsUrlOrDataUri() =>
        Single(new WanxTextToImageRequest("x") { ReferenceImage = "./girl.png" }, "input.ref_img");

    [Fact]
    public void Validate_DataUriWithGif_ListsAllowedMimeTypes()
    {
        var error = Single(new WanxImageEditRequest(WanxImageEditFunctions.Colorization, "x", "data:image/gif;base64,R0lGODlhAQABAAAAACw="), "input.base_image_url");
        Assert.Contains("image/jpeg, image/png, image/bmp, image/tiff, image/webp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TiffDataUriForWan25_ListsWan25MimeTypes()
    {
        var error = Single(new WanImageToImageRequest("x", [DashScopeImageData.ToDataUri(s_tiff)]), "input.images[0]");
        Assert.Contains("image/jpeg, image/png, image/bmp, image/webp", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("image/tiff,", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DataUriBadBase64_ReportsBase64()
    {
        var error = Single(new WanImageToImageRequest("x", ["data:image/png;base64,@@@not-base64@@@"]), "input.images[0]");
        Assert.Contains("not valid base64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DataUriWithoutBase64Marker_ReportsForm()
    {
        var error = Single(new WanImageToImageRequest("x", ["data:image/png,abcd"]), "input.images[0]");
        Assert.Contains("data:{mime};base64,{data}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DataUriOver10MB_ReportsSize()
    {
        var big = new byte[DashScopeModels.MaxInputImageBytes + 3];
        s_png.CopyTo(big, 0);
        var uri = "data:image/png;base64," + Convert.ToBase64String(big);
        var error = Single(new WanImageToImageRequest("x", [uri]), "input.images[0]");
        Assert.Contains("at most 10485760 bytes (10 MB)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DataUriMimeDisagreesWithBytes_ReportsBoth()
    {
        var uri = "data:image/jpeg;base64," + Convert.ToBase64String(s_png);
        var error = Single(new WanImageToImageRequest("x", [uri]), "input.images[0]");
        Assert.Contains("'image/jpeg'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'image/png'", error.Message, StringComparison.Ordinal);
    }

    // ---- wan2.5 size ----

    [Theory]
    [InlineData("512*512")]
    [InlineData("1400*1400")]
    public void Validate_Wan25SizePixelsOutOfRange_ReportsPixelRange(string size)
    {
        var error = Single(new WanImageToImageRequest("x", [Url]) { Size = size }, "parameters.size");
        Assert.Contains("589824 (768*768) to 1638400 (1280*1280)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Wan25SizeTooWide_ReportsAspectRatio()
    {
        var error = Single(new WanImageToImageRequest("x", [Url]) { Size = "2000*400" }, "parameters.size");
        Assert.Contains("1:4 to 4:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Wan25SizeMalformed_ReportsFormat()
    {
        var error = Single(new WanImageToImageRequest("x", [Url]) { Size = "1024x1024" }, "parameters.size");
        Assert.Contains("'width*height'", error.Message, StringComparison.Ordinal);
    }

    // ---- all failures at once; the exception ----

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOne()
    {
        var request = new WanxTextToImageRequest("") { Style = "<x>", Size = "1*1", N = 7, Seed = -3 };
        var fields = request.Validate().Select(e => e.Field).ToArray();
        Assert.Equal(["input.prompt", "parameters.style", "parameters.size", "parameters.n", "parameters.seed"], fields);
    }

    [Fact]
    public void ThrowIfInvalid_InvalidRequest_ThrowsArgumentExceptionWithAllErrors()
    {
        var request = new QwenImageRequest("") { N = 4, Size = "1*1" };
        var ex = Assert.Throws<DashScopeValidationException>(() => DashScopeRequestValidator.ThrowIfInvalid(request));
        Assert.IsAssignableFrom<ArgumentException>(ex);
        Assert.Equal(3, ex.Errors.Count);
        Assert.Contains("parameters.n", ex.Message, StringComparison.Ordinal);
        Assert.Contains("parameters.size", ex.Message, StringComparison.Ordinal);
        Assert.Contains("input.prompt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ModelInputParametersOverload_MatchesBodyOverload()
    {
        var input = new JsonObject { ["prompt"] = "x" };
        var parameters = new JsonObject { ["n"] = 3 };
        var errors = DashScopeRequestValidator.Validate(DashScopeModels.QwenImage, input, parameters);
        Assert.Equal("parameters.n", Assert.Single(errors).Field);
    }
}
