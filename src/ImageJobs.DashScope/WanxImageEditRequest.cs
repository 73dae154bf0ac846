using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

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
