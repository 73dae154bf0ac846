namespace ImageJobs.DashScope;

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
