using System.Text.RegularExpressions;

namespace ImageJobs.DashScope;

/// <summary>Which image-synthesis endpoint a model uses.</summary>
public enum DashScopeTaskKind
{
    /// <summary><c>POST {base}/services/aigc/text2image/image-synthesis</c>.</summary>
    TextToImage,

    /// <summary><c>POST {base}/services/aigc/image2image/image-synthesis</c>.</summary>
    ImageToImage,
}

/// <summary>The documented facts about one model: family, endpoint, typical latency, limits, defaults, image fields.
/// Every profile is listed in <see cref="DashScopeModelCatalog"/>.</summary>
/// <param name="Model">The model name sent in <c>model</c>.</param>
/// <param name="Family">The request shape it shares with other models.</param>
/// <param name="Kind">The image-synthesis endpoint it uses.</param>
/// <param name="TypicalLatencyMin">Lower end of the documented typical task duration.</param>
/// <param name="TypicalLatencyMax">Upper end of the documented typical task duration.</param>
/// <param name="SubmitRequestsPerSecond">Documented submit rate limit (per account, shared with RAM sub-accounts).</param>
/// <param name="MaxConcurrentTasks">Documented number of tasks processed at once per account.</param>
/// <param name="DefaultImageCount">The service's default for <c>parameters.n</c> (billing is per image).</param>
/// <param name="MaxImageCount">The largest allowed <c>parameters.n</c>.</param>
/// <param name="BeijingOnly">True when the model exists only in the Beijing region.</param>
/// <param name="SupportsSyncCall">True when the synchronous multimodal-generation call is available (qwen-image).</param>
/// <param name="ImageFields">The image-valued fields of its <c>input</c>, in the order images are given (empty for
/// text-only models).</param>
public sealed record DashScopeModelProfile(
    string Model,
    DashScopeModelFamily Family,
    DashScopeTaskKind Kind,
    TimeSpan TypicalLatencyMin,
    TimeSpan TypicalLatencyMax,
    int SubmitRequestsPerSecond,
    int MaxConcurrentTasks,
    int DefaultImageCount,
    int MaxImageCount,
    bool BeijingOnly,
    bool SupportsSyncCall,
    IReadOnlyList<DashScopeImageField> ImageFields)
{
    /// <summary>The most input images a request of this model carries (the sum over <see cref="ImageFields"/>).</summary>
    public int MaxInputImages => ImageFields.Sum(f => f.MaxCount);

    /// <summary>The mask field, if the model takes one.</summary>
    public DashScopeImageField? MaskField => ImageFields.FirstOrDefault(f => f.IsMask);
}

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

/// <summary>The hosts DashScope serves result images from (signed OSS links, valid 24 hours).</summary>
public static class DashScopeResultHosts
{
    /// <summary>
    /// The host pattern the documentation lists for result images: <c>dashscope-result-*.oss-*.aliyuncs.com</c>, as a
    /// regular expression over the lower-case host name.
    /// </summary>
    public const string HostPattern = @"^dashscope-result-[a-z0-9-]+\.oss-[a-z0-9-]+\.aliyuncs\.com$";

    /// <summary>The hosts the documentation lists by name (the allow-list it asks firewalls to open).</summary>
    public static IReadOnlyList<string> DocumentedHosts { get; } =
    [
        "dashscope-result-bj.oss-cn-beijing.aliyuncs.com",
        "dashscope-result-hz.oss-cn-hangzhou.aliyuncs.com",
        "dashscope-result-sh.oss-cn-shanghai.aliyuncs.com",
        "dashscope-result-wlcb.oss-cn-wulanchabu.aliyuncs.com",
        "dashscope-result-zjk.oss-cn-zhangjiakou.aliyuncs.com",
        "dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com",
        "dashscope-result-hy.oss-cn-heyuan.aliyuncs.com",
        "dashscope-result-cd.oss-cn-chengdu.aliyuncs.com",
        "dashscope-result-gz.oss-cn-guangzhou.aliyuncs.com",
        "dashscope-result-wlcb-acdr-1.oss-cn-wulanchabu-acdr-1.aliyuncs.com",
    ];

    private static readonly Regex s_host = new(HostPattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(1));

    /// <summary>True when the host matches <see cref="HostPattern"/> (case-insensitive).</summary>
    /// <param name="host">A host name.</param>
    /// <returns>True for a DashScope result host.</returns>
    public static bool IsResultHost(string? host) =>
        !string.IsNullOrEmpty(host) && s_host.IsMatch(host.ToLowerInvariant());

    /// <summary>True when the URL is https on a DashScope result host (what a download step should insist on).</summary>
    /// <param name="url">An absolute URL.</param>
    /// <returns>True for a DashScope result URL.</returns>
    public static bool IsResultUrl(Uri? url) =>
        url is not null && url.IsAbsoluteUri && url.Scheme == Uri.UriSchemeHttps && IsResultHost(url.Host);
}
