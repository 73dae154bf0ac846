namespace ImageJobs.Workflow.Outbound;

/// <summary>
/// Configuration of the one guard every outbound call (webhooks, result and input downloads) goes through.
/// Bound from the <c>ImageJobs:Outbound</c> configuration section.
/// </summary>
public sealed class OutboundOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "ImageJobs:Outbound";

    /// <summary>
    /// Allows loopback, private, link-local and other non-public addresses. Off by default; local runs and tests turn it
    /// on. Cloud metadata endpoints stay refused unless listed in <see cref="AllowedHosts"/> by literal address.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// Hosts that are allowed whatever their address: exact names (<c>localhost</c>), IP literals (<c>127.0.0.1</c>,
    /// <c>::1</c>) or <c>*.suffix</c> wildcards. An entry may carry a port (<c>127.0.0.1:8089</c>), which then must match.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Maximum number of redirects followed; each hop is checked again. Default 3.</summary>
    public int MaxRedirects { get; set; } = 3;
}
