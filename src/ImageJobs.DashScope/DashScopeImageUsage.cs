namespace ImageJobs.DashScope;

/// <summary><c>usage</c>: counts only successful images.</summary>
public sealed class DashScopeImageUsage
{
    internal DashScopeImageUsage(int? imageCount, int? width, int? height)
    {
        ImageCount = imageCount;
        Width = width;
        Height = height;
    }

    /// <summary><c>image_count</c>: billed images.</summary>
    public int? ImageCount { get; }

    /// <summary><c>width</c> (sync qwen-image call).</summary>
    public int? Width { get; }

    /// <summary><c>height</c> (sync qwen-image call).</summary>
    public int? Height { get; }
}
