namespace ImageJobs.DashScope;

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
