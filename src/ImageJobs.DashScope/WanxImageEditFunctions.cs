namespace ImageJobs.DashScope;

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
