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

/// <summary>The documented facts about one model: endpoint, typical latency, limits, defaults.</summary>
/// <param name="Model">The model name sent in <c>model</c>.</param>
/// <param name="Kind">The image-synthesis endpoint it uses.</param>
/// <param name="TypicalLatencyMin">Lower end of the documented typical task duration.</param>
/// <param name="TypicalLatencyMax">Upper end of the documented typical task duration.</param>
/// <param name="SubmitRequestsPerSecond">Documented submit rate limit (per account, shared with RAM sub-accounts).</param>
/// <param name="MaxConcurrentTasks">Documented number of tasks processed at once per account.</param>
/// <param name="DefaultImageCount">The service's default for <c>parameters.n</c> (billing is per image).</param>
/// <param name="MaxImageCount">The largest allowed <c>parameters.n</c>.</param>
/// <param name="BeijingOnly">True when the model exists only in the Beijing region.</param>
/// <param name="SupportsSyncCall">True when the synchronous multimodal-generation call is available (qwen-image).</param>
/// <param name="SuggestedPollInterval">A sensible interval between task queries for this model.</param>
public sealed record DashScopeModelProfile(
    string Model,
    DashScopeTaskKind Kind,
    TimeSpan TypicalLatencyMin,
    TimeSpan TypicalLatencyMax,
    int SubmitRequestsPerSecond,
    int MaxConcurrentTasks,
    int DefaultImageCount,
    int MaxImageCount,
    bool BeijingOnly,
    bool SupportsSyncCall,
    TimeSpan SuggestedPollInterval);

/// <summary>Model names, per-model profiles and the account-wide limits, in one place.</summary>
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

    /// <summary>Task ids and result URLs live this long; images must be copied out before.</summary>
    public static readonly TimeSpan ResultRetention = TimeSpan.FromHours(24);

    /// <summary>Largest input image (URL target or data URI payload): 10 MB.</summary>
    public const int MaxInputImageBytes = 10 * 1024 * 1024;

    /// <summary>Upload-policy calls (<c>GET uploads?action=getPolicy</c>): 100 per second per account and model.</summary>
    public const int UploadPolicyRequestsPerSecond = 100;

    /// <summary>Files in DashScope's temporary storage (<c>oss://</c> inputs) are deleted this long after their upload.</summary>
    public static readonly TimeSpan TemporaryFileRetention = TimeSpan.FromHours(48);

    /// <summary>
    /// Whether a model documents data URIs for an image field. wanx-v1's <c>input.ref_img</c> documents URLs only;
    /// every other image field of these models takes a data URI too.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="field">The JSON path, for example <c>input.ref_img</c>.</param>
    /// <returns>False where only URLs are documented.</returns>
    public static bool AcceptsDataUri(string model, string field) =>
        !(model == WanxV1 && field == "input.ref_img");

    private static readonly Dictionary<string, DashScopeModelProfile> s_profiles = new(StringComparer.Ordinal)
    {
        [WanxV1] = new(WanxV1, DashScopeTaskKind.TextToImage, TimeSpan.FromSeconds(26), TimeSpan.FromSeconds(31),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 1, DefaultImageCount: 4, MaxImageCount: 4,
            BeijingOnly: true, SupportsSyncCall: false, SuggestedPollInterval: TimeSpan.FromSeconds(5)),
        [WanxImageEdit] = new(WanxImageEdit, DashScopeTaskKind.ImageToImage, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 2, DefaultImageCount: 1, MaxImageCount: 4,
            BeijingOnly: true, SupportsSyncCall: false, SuggestedPollInterval: TimeSpan.FromSeconds(3)),
        [Wan25ImageToImagePreview] = new(Wan25ImageToImagePreview, DashScopeTaskKind.ImageToImage, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2),
            SubmitRequestsPerSecond: 5, MaxConcurrentTasks: 5, DefaultImageCount: 4, MaxImageCount: 4,
            BeijingOnly: false, SupportsSyncCall: false, SuggestedPollInterval: TimeSpan.FromSeconds(10)),
        [QwenImage] = new(QwenImage, DashScopeTaskKind.TextToImage, TimeSpan.FromSeconds(14), TimeSpan.FromSeconds(20),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 2, DefaultImageCount: 1, MaxImageCount: 1,
            BeijingOnly: false, SupportsSyncCall: true, SuggestedPollInterval: TimeSpan.FromSeconds(3)),
        [QwenImagePlus] = new(QwenImagePlus, DashScopeTaskKind.TextToImage, TimeSpan.FromSeconds(14), TimeSpan.FromSeconds(20),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 2, DefaultImageCount: 1, MaxImageCount: 1,
            BeijingOnly: false, SupportsSyncCall: true, SuggestedPollInterval: TimeSpan.FromSeconds(3)),
    };

    /// <summary>Every model this library knows, in documentation order.</summary>
    public static IReadOnlyList<string> All { get; } = [WanxV1, WanxImageEdit, Wan25ImageToImagePreview, QwenImage, QwenImagePlus];

    /// <summary>Every model profile, in documentation order.</summary>
    public static IReadOnlyList<DashScopeModelProfile> Profiles { get; } = [.. All.Select(m => s_profiles[m])];

    /// <summary>The profile of a model.</summary>
    /// <param name="model">The model name (case-sensitive, as DashScope spells it).</param>
    /// <param name="profile">The profile when known.</param>
    /// <returns>True when the model is known.</returns>
    public static bool TryGetProfile(string? model, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DashScopeModelProfile? profile)
    {
        profile = null;
        return model is not null && s_profiles.TryGetValue(model, out profile);
    }

    /// <summary>The profile of a model.</summary>
    /// <param name="model">The model name.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentException">The model is unknown.</exception>
    public static DashScopeModelProfile GetProfile(string model) =>
        TryGetProfile(model, out var profile)
            ? profile
            : throw new ArgumentException($"Unknown DashScope model '{model}'. Known: {string.Join(", ", All)}.", nameof(model));

    /// <summary>True for qwen-image and qwen-image-plus.</summary>
    /// <param name="model">The model name.</param>
    /// <returns>True for the Qwen-Image family.</returns>
    public static bool IsQwenImage(string? model) => model is QwenImage or QwenImagePlus;
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
