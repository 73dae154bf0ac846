using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

/// <summary>
/// A DashScope image-generation request in its wire shape <c>{model, input, parameters}</c>. Create one of the typed
/// requests (<see cref="WanxTextToImageRequest"/>, <see cref="WanxImageEditRequest"/>,
/// <see cref="WanImageToImageRequest"/>, <see cref="QwenImageRequest"/>) or, for DashScope's own snake_case JSON,
/// <see cref="FromJson(JsonObject)"/>. Both kinds are validated by <see cref="DashScopeRequestValidator"/>.
/// </summary>
public abstract class DashScopeImageRequest
{
    internal static readonly JsonSerializerOptions WireJson = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private protected DashScopeImageRequest(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        Model = model;
    }

    /// <summary>The model name sent in <c>model</c>.</summary>
    public string Model { get; }

    /// <summary>
    /// The endpoint the request goes to: from the model's profile, or for an unknown model (validation off)
    /// image-to-image when the input carries images, else text-to-image.
    /// </summary>
    public DashScopeTaskKind TaskKind
    {
        get
        {
            if (DashScopeModels.TryGetProfile(Model, out var profile))
            {
                return profile.Kind;
            }

            var input = ToJson()["input"] as JsonObject;
            return input is not null && DashScopeModelCatalog.HasImageToImageInput(input)
                ? DashScopeTaskKind.ImageToImage
                : DashScopeTaskKind.TextToImage;
        }
    }

    /// <summary>
    /// True when this is the synchronous qwen-image call (<c>input.messages</c>), sent with
    /// <see cref="DashScopeClient.GenerateAsync(DashScopeImageRequest, CancellationToken)"/>; false for asynchronous
    /// image-synthesis tasks sent with <see cref="DashScopeClient.SubmitAsync(DashScopeImageRequest, CancellationToken)"/>.
    /// </summary>
    public virtual bool IsSynchronousCall => false;

    /// <summary>Builds the request body in DashScope's shape (a fresh copy each call).</summary>
    /// <returns><c>{"model": …, "input": {…}, "parameters": {…}}</c>; <c>parameters</c> is left out when empty.</returns>
    public virtual JsonObject ToJson()
    {
        var input = new JsonObject();
        var parameters = new JsonObject();
        WriteInput(input);
        WriteParameters(parameters);
        var body = new JsonObject { ["model"] = Model, ["input"] = input };
        if (parameters.Count > 0)
        {
            body["parameters"] = parameters;
        }

        return body;
    }

    /// <summary>The body exactly as the client sends it (UTF-8 JSON, non-ASCII text unescaped).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJsonString() => ToJson().ToJsonString(WireJson);

    /// <summary>Validates the request with <see cref="DashScopeRequestValidator"/>.</summary>
    /// <returns>Every failure; empty when valid.</returns>
    public IReadOnlyList<DashScopeValidationError> Validate() => DashScopeRequestValidator.Validate(this);

    /// <summary>
    /// Wraps a body in DashScope's own shape (as pasted from the documentation). Nothing is checked here: call
    /// <see cref="Validate"/> (the client does before sending, unless turned off). The body is copied and sent back
    /// unchanged: same fields, same order, same number text.
    /// </summary>
    /// <param name="body"><c>{"model": …, "input": {…}, "parameters": {…}}</c>.</param>
    /// <returns>The request.</returns>
    public static DashScopeImageRequest FromJson(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var model = body["model"] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : string.Empty;
        return new DashScopeJsonImageRequest(model, (JsonObject)body.DeepClone());
    }

    /// <summary>Wraps a model name and DashScope's own <c>input</c> and <c>parameters</c> objects.</summary>
    /// <param name="model">The model name.</param>
    /// <param name="input">The <c>input</c> object (copied).</param>
    /// <param name="parameters">The <c>parameters</c> object (copied), if any.</param>
    /// <returns>The request.</returns>
    public static DashScopeImageRequest FromJson(string model, JsonObject input, JsonObject? parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var body = new JsonObject { ["model"] = model, ["input"] = input.DeepClone() };
        if (parameters is not null)
        {
            body["parameters"] = parameters.DeepClone();
        }

        return new DashScopeJsonImageRequest(model, body);
    }

    /// <summary>Parses a JSON body in DashScope's shape.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The request.</returns>
    /// <exception cref="DashScopeValidationException">The text is not a JSON object.</exception>
    public static DashScopeImageRequest Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new DashScopeValidationException(
                [new DashScopeValidationError("$", $"The request is not valid JSON: {ex.Message}")]);
        }

        return node is JsonObject body
            ? FromJson(body)
            : throw new DashScopeValidationException(
                [new DashScopeValidationError("$", "The request must be a JSON object {\"model\", \"input\", \"parameters\"}.")]);
    }

    private protected virtual void WriteInput(JsonObject input)
    {
    }

    private protected virtual void WriteParameters(JsonObject parameters)
    {
    }

    private protected static void Put(JsonObject target, string name, string? value)
    {
        if (value is not null)
        {
            target[name] = value;
        }
    }

    private protected static void Put(JsonObject target, string name, int? value)
    {
        if (value is not null)
        {
            target[name] = value.Value;
        }
    }

    private protected static void Put(JsonObject target, string name, double? value)
    {
        if (value is not null)
        {
            target[name] = value.Value;
        }
    }

    private protected static void Put(JsonObject target, string name, bool? value)
    {
        if (value is not null)
        {
            target[name] = value.Value;
        }
    }
}

/// <summary>A request given as DashScope's own JSON; sent back unchanged.</summary>
internal sealed class DashScopeJsonImageRequest : DashScopeImageRequest
{
    private readonly JsonObject _body;

    public DashScopeJsonImageRequest(string model, JsonObject body)
        : base(string.IsNullOrWhiteSpace(model) ? "(missing)" : model)
    {
        _body = body;
    }

    public override bool IsSynchronousCall =>
        DashScopeModels.IsQwenImage(Model) && _body["input"] is JsonObject input && input.ContainsKey("messages");

    public override JsonObject ToJson() => (JsonObject)_body.DeepClone();
}

/// <summary>wanx-v1 text-to-image (seed 000): prompt, optional negative prompt, optional reference image.</summary>
public sealed class WanxTextToImageRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="prompt">The prompt (<c>input.prompt</c>, at most 800 characters).</param>
    public WanxTextToImageRequest(string prompt)
        : base(DashScopeModels.WanxV1)
    {
        Prompt = prompt;
    }

    /// <summary><c>input.prompt</c>: at most 800 characters.</summary>
    public string Prompt { get; set; }

    /// <summary><c>input.negative_prompt</c>: at most 500 characters.</summary>
    public string? NegativePrompt { get; set; }

    /// <summary><c>input.ref_img</c>: a reference image (http(s) URL or data URI; JPG/PNG/BMP/TIFF/WEBP, ≤ 10 MB).</summary>
    public string? ReferenceImage { get; set; }

    /// <summary><c>parameters.style</c>: one of <see cref="WanxStyles.All"/> (service default <c>&lt;auto&gt;</c>).</summary>
    public string? Style { get; set; }

    /// <summary><c>parameters.size</c>: one of <see cref="WanxSizes.All"/> (service default <c>1024*1024</c>).</summary>
    public string? Size { get; set; }

    /// <summary><c>parameters.n</c>: 1–4. The service default is 4 (billed per image); set it explicitly.</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647; image i uses seed + i.</summary>
    public int? Seed { get; set; }

    /// <summary><c>parameters.ref_strength</c>: 0.0–1.0, only with <see cref="ReferenceImage"/>.</summary>
    public double? ReferenceStrength { get; set; }

    /// <summary><c>parameters.ref_mode</c>: <c>repaint</c> or <c>refonly</c> (<see cref="WanxRefModes"/>), only with a reference image.</summary>
    public string? ReferenceMode { get; set; }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "prompt", Prompt);
        Put(input, "negative_prompt", NegativePrompt);
        Put(input, DashScopeModelCatalog.WanxReferenceImage.Name, ReferenceImage);
    }

    private protected override void WriteParameters(JsonObject parameters)
    {
        Put(parameters, "style", Style);
        Put(parameters, "size", Size);
        Put(parameters, "n", N);
        Put(parameters, "seed", Seed);
        Put(parameters, "ref_strength", ReferenceStrength);
        Put(parameters, "ref_mode", ReferenceMode);
    }
}

/// <summary>wanx2.1-imageedit general image editing (seed 001): one of ten functions on a base image.</summary>
public sealed class WanxImageEditRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="function"><c>input.function</c>: one of <see cref="WanxImageEditFunctions.All"/>.</param>
    /// <param name="prompt"><c>input.prompt</c>: at most 800 characters.</param>
    /// <param name="baseImageUrl"><c>input.base_image_url</c>: http(s) URL or data URI.</param>
    public WanxImageEditRequest(string function, string prompt, string baseImageUrl)
        : base(DashScopeModels.WanxImageEdit)
    {
        Function = function;
        Prompt = prompt;
        BaseImageUrl = baseImageUrl;
    }

    /// <summary><c>input.function</c>: one of <see cref="WanxImageEditFunctions.All"/>.</summary>
    public string Function { get; set; }

    /// <summary><c>input.prompt</c>: at most 800 characters.</summary>
    public string Prompt { get; set; }

    /// <summary><c>input.base_image_url</c>: the image to edit (http(s) URL or data URI).</summary>
    public string BaseImageUrl { get; set; }

    /// <summary><c>input.mask_image_url</c>: required for (and only for) <c>description_edit_with_mask</c>; same
    /// resolution as the base image, white = edit, black = keep.</summary>
    public string? MaskImageUrl { get; set; }

    /// <summary><c>parameters.n</c>: 1–4 (default 1).</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647.</summary>
    public int? Seed { get; set; }

    /// <summary><c>parameters.watermark</c> (default false).</summary>
    public bool? Watermark { get; set; }

    /// <summary><c>parameters.strength</c>: 0.0–1.0 (default 0.5); <c>stylization_all</c> and <c>description_edit</c> only.</summary>
    public double? Strength { get; set; }

    /// <summary><c>parameters.top_scale</c>: 1.0–2.0 (default 1.0); <c>expand</c> only.</summary>
    public double? TopScale { get; set; }

    /// <summary><c>parameters.bottom_scale</c>: 1.0–2.0 (default 1.0); <c>expand</c> only.</summary>
    public double? BottomScale { get; set; }

    /// <summary><c>parameters.left_scale</c>: 1.0–2.0 (default 1.0); <c>expand</c> only.</summary>
    public double? LeftScale { get; set; }

    /// <summary><c>parameters.right_scale</c>: 1.0–2.0 (default 1.0); <c>expand</c> only.</summary>
    public double? RightScale { get; set; }

    /// <summary><c>parameters.upscale_factor</c>: 1–4 (default 1); <c>super_resolution</c> only.</summary>
    public int? UpscaleFactor { get; set; }

    /// <summary><c>parameters.is_sketch</c>: whether the input already is a sketch; <c>doodle</c> only.</summary>
    public bool? IsSketch { get; set; }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "function", Function);
        Put(input, "prompt", Prompt);
        Put(input, DashScopeModelCatalog.WanxBaseImage.Name, BaseImageUrl);
        Put(input, DashScopeModelCatalog.WanxMaskImage.Name, MaskImageUrl);
    }

    private protected override void WriteParameters(JsonObject parameters)
    {
        Put(parameters, "n", N);
        Put(parameters, "seed", Seed);
        Put(parameters, "watermark", Watermark);
        Put(parameters, "strength", Strength);
        Put(parameters, "top_scale", TopScale);
        Put(parameters, "bottom_scale", BottomScale);
        Put(parameters, "left_scale", LeftScale);
        Put(parameters, "right_scale", RightScale);
        Put(parameters, "upscale_factor", UpscaleFactor);
        Put(parameters, "is_sketch", IsSketch);
    }
}

/// <summary>wan2.5-i2i-preview image editing / multi-image fusion (seed 002): 1–3 input images.</summary>
public sealed class WanImageToImageRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="prompt"><c>input.prompt</c>: at most 2000 characters.</param>
    /// <param name="images"><c>input.images</c>: 1–3 http(s) URLs or data URIs.</param>
    public WanImageToImageRequest(string prompt, IEnumerable<string> images)
        : base(DashScopeModels.Wan25ImageToImagePreview)
    {
        ArgumentNullException.ThrowIfNull(images);
        Prompt = prompt;
        Images = [.. images];
    }

    /// <summary><c>input.prompt</c>: at most 2000 characters.</summary>
    public string Prompt { get; set; }

    /// <summary><c>input.negative_prompt</c>: at most 500 characters.</summary>
    public string? NegativePrompt { get; set; }

    /// <summary><c>input.images</c>: 1–3 images (JPEG/PNG/BMP/WEBP; URL or data URI; ≤ 10 MB each).</summary>
    public IList<string> Images { get; }

    /// <summary><c>parameters.size</c>: <c>W*H</c> with W·H in [768·768, 1280·1280] and aspect in [1:4, 4:1];
    /// omitted → about 1280·1280 with the last input's aspect ratio.</summary>
    public string? Size { get; set; }

    /// <summary><c>parameters.n</c>: 1–4. The service default is 4 (billed per image); set it explicitly.</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647.</summary>
    public int? Seed { get; set; }

    /// <summary><c>parameters.watermark</c> (default false).</summary>
    public bool? Watermark { get; set; }

    /// <summary><c>parameters.prompt_extend</c> (default true; results then carry <c>actual_prompt</c>).</summary>
    public bool? PromptExtend { get; set; }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "prompt", Prompt);
        Put(input, "negative_prompt", NegativePrompt);
        input[DashScopeModelCatalog.WanImages.Name] = new JsonArray([.. Images.Select(i => (JsonNode?)JsonValue.Create(i))]);
    }

    private protected override void WriteParameters(JsonObject parameters)
    {
        Put(parameters, "size", Size);
        Put(parameters, "n", N);
        Put(parameters, "seed", Seed);
        Put(parameters, "watermark", Watermark);
        Put(parameters, "prompt_extend", PromptExtend);
    }
}

/// <summary>
/// qwen-image / qwen-image-plus text-to-image (seed 003). Send it as an asynchronous task with
/// <see cref="DashScopeClient.SubmitAsync(DashScopeImageRequest, CancellationToken)"/>, or in one synchronous call with
/// <see cref="DashScopeClient.GenerateAsync(DashScopeImageRequest, CancellationToken)"/> (body from
/// <see cref="ToMultimodalJson"/>: prompt in <c>input.messages</c>, negative prompt in <c>parameters</c>).
/// </summary>
public sealed class QwenImageRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="prompt"><c>input.prompt</c>: at most 800 characters.</param>
    /// <param name="model"><see cref="DashScopeModels.QwenImagePlus"/> (default) or <see cref="DashScopeModels.QwenImage"/>.</param>
    public QwenImageRequest(string prompt, string model = DashScopeModels.QwenImagePlus)
        : base(model)
    {
        Prompt = prompt;
    }

    /// <summary>The prompt: <c>input.prompt</c> (async) or <c>input.messages[0].content[0].text</c> (sync); ≤ 800 characters.</summary>
    public string Prompt { get; set; }

    /// <summary>The negative prompt: <c>input.negative_prompt</c> (async) or <c>parameters.negative_prompt</c> (sync); ≤ 500.</summary>
    public string? NegativePrompt { get; set; }

    /// <summary><c>parameters.size</c>: one of <see cref="QwenImageSizes.All"/> (default <c>1328*1328</c>).</summary>
    public string? Size { get; set; }

    /// <summary><c>parameters.n</c>: must be 1 when set.</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.prompt_extend</c> (default true, adds 3–4 s).</summary>
    public bool? PromptExtend { get; set; }

    /// <summary><c>parameters.watermark</c> (default false).</summary>
    public bool? Watermark { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647.</summary>
    public int? Seed { get; set; }

    /// <summary>The body of the synchronous <c>multimodal-generation/generation</c> call.</summary>
    /// <returns><c>{"model", "input": {"messages": [{"role": "user", "content": [{"text"}]}]}, "parameters"}</c>.</returns>
    public JsonObject ToMultimodalJson()
    {
        var parameters = new JsonObject();
        Put(parameters, "negative_prompt", NegativePrompt);
        WriteSharedParameters(parameters);
        var body = new JsonObject
        {
            ["model"] = Model,
            ["input"] = new JsonObject
            {
                ["messages"] = new JsonArray(
                    new JsonObject
                    {
                        ["role"] = "user",
                        ["content"] = new JsonArray(new JsonObject { ["text"] = Prompt }),
                    }),
            },
        };
        if (parameters.Count > 0)
        {
            body["parameters"] = parameters;
        }

        return body;
    }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "prompt", Prompt);
        Put(input, "negative_prompt", NegativePrompt);
    }

    private protected override void WriteParameters(JsonObject parameters) => WriteSharedParameters(parameters);

    private void WriteSharedParameters(JsonObject parameters)
    {
        Put(parameters, "size", Size);
        Put(parameters, "n", N);
        Put(parameters, "prompt_extend", PromptExtend);
        Put(parameters, "watermark", Watermark);
        Put(parameters, "seed", Seed);
    }
}
