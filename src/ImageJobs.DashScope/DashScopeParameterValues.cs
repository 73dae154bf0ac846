namespace ImageJobs.DashScope;

/// <summary>The <c>parameters.style</c> values of wanx-v1.</summary>
public static class WanxStyles
{
    /// <summary>Automatic (default).</summary>
    public const string Auto = "<auto>";

    /// <summary>Photography.</summary>
    public const string Photography = "<photography>";

    /// <summary>Portrait.</summary>
    public const string Portrait = "<portrait>";

    /// <summary>3D cartoon.</summary>
    public const string Cartoon3D = "<3d cartoon>";

    /// <summary>Anime.</summary>
    public const string Anime = "<anime>";

    /// <summary>Oil painting.</summary>
    public const string OilPainting = "<oil painting>";

    /// <summary>Watercolor.</summary>
    public const string Watercolor = "<watercolor>";

    /// <summary>Sketch.</summary>
    public const string Sketch = "<sketch>";

    /// <summary>Chinese painting.</summary>
    public const string ChinesePainting = "<chinese painting>";

    /// <summary>Flat illustration.</summary>
    public const string FlatIllustration = "<flat illustration>";

    /// <summary>Every allowed style.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Auto, Photography, Portrait, Cartoon3D, Anime, OilPainting, Watercolor, Sketch, ChinesePainting, FlatIllustration];
}

/// <summary>The <c>parameters.size</c> values of wanx-v1.</summary>
public static class WanxSizes
{
    /// <summary>1024*1024 (default).</summary>
    public const string Square1024 = "1024*1024";

    /// <summary>720*1280.</summary>
    public const string Portrait720x1280 = "720*1280";

    /// <summary>768*1152.</summary>
    public const string Portrait768x1152 = "768*1152";

    /// <summary>1280*720.</summary>
    public const string Landscape1280x720 = "1280*720";

    /// <summary>Every allowed size.</summary>
    public static IReadOnlyList<string> All { get; } = [Square1024, Portrait720x1280, Portrait768x1152, Landscape1280x720];
}

/// <summary>The <c>parameters.ref_mode</c> values of wanx-v1.</summary>
public static class WanxRefModes
{
    /// <summary>Follow the reference image's content (default).</summary>
    public const string Repaint = "repaint";

    /// <summary>Follow the reference image's style only.</summary>
    public const string RefOnly = "refonly";

    /// <summary>Every allowed mode.</summary>
    public static IReadOnlyList<string> All { get; } = [Repaint, RefOnly];
}

/// <summary>The <c>input.function</c> values of wanx2.1-imageedit (documentation spelling).</summary>
public static class WanxImageEditFunctions
{
    /// <summary>Global stylization (uses <c>strength</c>).</summary>
    public const string StylizationAll = "stylization_all";

    /// <summary>Local stylization.</summary>
    public const string StylizationLocal = "stylization_local";

    /// <summary>Instruction edit without a mask (uses <c>strength</c>).</summary>
    public const string DescriptionEdit = "description_edit";

    /// <summary>Inpainting inside a mask (requires <c>input.mask_image_url</c>).</summary>
    public const string DescriptionEditWithMask = "description_edit_with_mask";

    /// <summary>Remove text watermarks (the SDKs misspell it <c>remove_watermaker</c>; this is the documented spelling).</summary>
    public const string RemoveWatermark = "remove_watermark";

    /// <summary>Outpainting (uses <c>top_scale</c>, <c>bottom_scale</c>, <c>left_scale</c>, <c>right_scale</c>).</summary>
    public const string Expand = "expand";

    /// <summary>Super resolution (uses <c>upscale_factor</c>).</summary>
    public const string SuperResolution = "super_resolution";

    /// <summary>Colorize a black-and-white image.</summary>
    public const string Colorization = "colorization";

    /// <summary>Sketch to image (uses <c>is_sketch</c>).</summary>
    public const string Doodle = "doodle";

    /// <summary>Image from a reference cartoon character.</summary>
    public const string ControlCartoonFeature = "control_cartoon_feature";

    /// <summary>Every allowed function.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        StylizationAll, StylizationLocal, DescriptionEdit, DescriptionEditWithMask, RemoveWatermark,
        Expand, SuperResolution, Colorization, Doodle, ControlCartoonFeature,
    ];
}

/// <summary>The <c>parameters.size</c> values of qwen-image and qwen-image-plus.</summary>
public static class QwenImageSizes
{
    /// <summary>1664*928 (16:9).</summary>
    public const string Landscape16x9 = "1664*928";

    /// <summary>1472*1140 (4:3).</summary>
    public const string Landscape4x3 = "1472*1140";

    /// <summary>1328*1328 (1:1, default).</summary>
    public const string Square = "1328*1328";

    /// <summary>1140*1472 (3:4).</summary>
    public const string Portrait3x4 = "1140*1472";

    /// <summary>928*1664 (9:16).</summary>
    public const string Portrait9x16 = "928*1664";

    /// <summary>Every allowed size.</summary>
    public static IReadOnlyList<string> All { get; } = [Landscape16x9, Landscape4x3, Square, Portrait3x4, Portrait9x16];
}
