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
