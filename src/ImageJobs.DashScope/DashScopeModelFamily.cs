namespace ImageJobs.DashScope;

/// <summary>A group of models that share one request shape (one typed request, one set of validation rules).</summary>
public enum DashScopeModelFamily
{
    /// <summary>wanx-v1: prompt, optional reference image (<see cref="WanxTextToImageRequest"/>).</summary>
    WanxTextToImage,

    /// <summary>wanx2.1-imageedit: a function on a base image, optionally a mask (<see cref="WanxImageEditRequest"/>).</summary>
    WanxImageEdit,

    /// <summary>wan2.5-i2i-preview: an array of input images (<see cref="WanImageToImageRequest"/>).</summary>
    WanImageToImage,

    /// <summary>qwen-image and qwen-image-plus: text only, asynchronous or synchronous (<see cref="QwenImageRequest"/>).</summary>
    QwenImage,
}
