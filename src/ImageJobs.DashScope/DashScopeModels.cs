using System.Text.RegularExpressions;

namespace ImageJobs.DashScope;

/// <summary>Model names and the account-wide limits; the per-model facts are in <see cref="DashScopeModelCatalog"/>.</summary>
public static class DashScopeModels
{
    /// <summary>Tongyi Wanxiang text-to-image (Beijing only).</summary>
    public const string WanxV1 = "wanx-v1";

    /// <summary>Tongyi Wanxiang 2.1 general image editing (Beijing only).</summary>
    public const string WanxImageEdit = "wanx2.1-imageedit";

    /// <summary>Wan 2.5 image-to-image preview: 1–3 input images.</summary>
    public const string Wan25ImageToImagePreview = "wan2.5-i2i-preview";

    /// <summary>Qwen-Image text-to-image.</summary>
    public const string QwenImage = "qwen-image";

    /// <summary>Qwen-Image Plus text-to-image (same capability, cheaper).</summary>
    public const string QwenImagePlus = "qwen-image-plus";

    /// <summary>Task-query budget: 20 queries per second per account (<c>GET /tasks/{id}</c>).</summary>
    public const int TaskQueryRequestsPerSecond = 20;

    /// <summary>
    /// The share of each documented per-second limit (submits, task queries, upload policies) a caller should plan to
    /// use: 0.8, leaving room for other callers on the account, late sends and network jitter.
    /// </summary>
    public const double LimitHeadroom = 0.8;

    /// <summary>Task ids and result URLs live this long; images must be copied out before.</summary>
    public static readonly TimeSpan ResultRetention = TimeSpan.FromHours(24);

    /// <summary>Largest input image (URL target or data URI payload): 10 MB.</summary>
    public const int MaxInputImageBytes = 10 * 1024 * 1024;

    /// <summary>Upload-policy calls (<c>GET uploads?action=getPolicy</c>): 100 per second per account and model.</summary>
    public const int UploadPolicyRequestsPerSecond = 100;

    /// <summary>Files in DashScope's temporary storage (<c>oss://</c> inputs) are deleted this long after their upload.</summary>
    public static readonly TimeSpan TemporaryFileRetention = TimeSpan.FromHours(48);

    /// <summary>
    /// Whether a model documents data URIs for an image field (<see cref="DashScopeModelCatalog.AcceptsDataUri"/>).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="field">The JSON path, for example <c>input.ref_img</c>.</param>
    /// <returns>False where only URLs are documented.</returns>
    public static bool AcceptsDataUri(string model, string field) => DashScopeModelCatalog.AcceptsDataUri(model, field);

    /// <summary>Every model this library knows, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. DashScopeModelCatalog.Profiles.Select(p => p.Model)];

    /// <summary>Every model profile, in documentation order (<see cref="DashScopeModelCatalog.Profiles"/>).</summary>
    public static IReadOnlyList<DashScopeModelProfile> Profiles => DashScopeModelCatalog.Profiles;

    /// <summary>The profile of a model.</summary>
    /// <param name="model">The model name (case-sensitive, as DashScope spells it).</param>
    /// <param name="profile">The profile when known.</param>
    /// <returns>True when the model is known.</returns>
    public static bool TryGetProfile(string? model, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DashScopeModelProfile? profile) =>
        DashScopeModelCatalog.TryGet(model, out profile);

    /// <summary>The profile of a model.</summary>
    /// <param name="model">The model name.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentException">The model is unknown.</exception>
    public static DashScopeModelProfile GetProfile(string model) =>
        TryGetProfile(model, out var profile)
            ? profile
            : throw new ArgumentException($"Unknown DashScope model '{model}'. Known: {string.Join(", ", All)}.", nameof(model));

    /// <summary>True for the models of <see cref="DashScopeModelFamily.QwenImage"/> (qwen-image, qwen-image-plus).</summary>
    /// <param name="model">The model name.</param>
    /// <returns>True for the Qwen-Image family.</returns>
    public static bool IsQwenImage(string? model) =>
        DashScopeModelCatalog.TryGet(model, out var profile) && profile.Family == DashScopeModelFamily.QwenImage;
}
