using System.Text.RegularExpressions;

namespace ImageJobs.DashScope;

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
