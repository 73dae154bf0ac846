namespace ImageJobs.DashScope;

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
