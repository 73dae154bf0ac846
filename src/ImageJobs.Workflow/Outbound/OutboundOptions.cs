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
    /// Entries match by host text and by address: a URL whose host resolves to an entry's IP literal, or to an address
    /// an entry's name resolves to, is allowed on that entry's port (so <c>localhost:8089</c> and <c>127.1:8089</c> are
    /// judged alike). Cloud metadata addresses match only an entry that names them by literal address.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Maximum number of redirects followed; each hop is checked again. Default 3.</summary>
    public int MaxRedirects { get; set; } = 3;

    /// <summary>
    /// Whether a request with a body (a signed webhook) follows a redirect to another origin (scheme, host or port).
    /// Off by default: the call stops at the redirect and is refused, so the signed body and its signature headers
    /// reach only the URL the job named (the job records it as the webhook's failure and still succeeds). Requests
    /// without a body (result and input downloads) follow redirects to other hosts either way, each hop checked again.
    /// </summary>
    public bool RedirectBodiesToOtherHosts { get; set; }
}
