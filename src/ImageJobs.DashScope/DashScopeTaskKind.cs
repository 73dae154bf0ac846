namespace ImageJobs.DashScope;

/// <summary>Which image-synthesis endpoint a model uses.</summary>
public enum DashScopeTaskKind
{
    /// <summary><c>POST {base}/services/aigc/text2image/image-synthesis</c>.</summary>
    TextToImage,

    /// <summary><c>POST {base}/services/aigc/image2image/image-synthesis</c>.</summary>
    ImageToImage,
}
