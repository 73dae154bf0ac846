namespace ImageJobs.DashScope;

/// <summary>
/// Options of <see cref="DashScopeClient"/>. Bindable from configuration (section <c>DashScope</c> by convention):
/// <c>Region</c> or <c>Endpoint</c>, <c>ApiKey</c>, <c>WorkspaceId</c>, <c>NetworkTimeout</c>, <c>ValidateRequests</c>.
/// </summary>
public sealed class DashScopeClientOptions
{
    /// <summary>The environment variable (and root configuration key) read when <see cref="ApiKey"/> is not set.</summary>
    public const string ApiKeyEnvironmentVariable = "DASHSCOPE_API_KEY";

    /// <summary>The default <see cref="NetworkTimeout"/>: 100 seconds.</summary>
    public static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromSeconds(100);

    /// <summary>
    /// A region name: <c>beijing</c> (alias <c>cn-beijing</c>) or <c>singapore</c> (alias <c>ap-southeast-1</c>, <c>intl</c>).
    /// Used when <see cref="Endpoint"/> is not set; when neither is set the client uses Beijing.
    /// </summary>
    public string? Region { get; set; }

    /// <summary>
    /// Any base URL ending in <c>/api/v1</c> (or the equivalent root of a local emulator), for example
    /// <c>https://dashscope-intl.aliyuncs.com/api/v1</c>. Takes precedence over <see cref="Region"/>.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// The API key (<c>sk-…</c>). When null, the client reads the <c>DASHSCOPE_API_KEY</c> environment variable
    /// (and, through <c>AddDashScopeClient</c>, the root configuration key of that name). Never logged, never shown by
    /// <see cref="ToString"/> and never put into exception messages.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Optional workspace id sent as <c>X-DashScope-WorkSpace</c> (required for RAM sub-account keys).</summary>
    public string? WorkspaceId { get; set; }

    /// <summary>
    /// Per-request time limit (send + whole response body). When it elapses and the caller did not cancel, the call fails
    /// with a <see cref="DashScopeException"/> whose <see cref="DashScopeException.Code"/> is
    /// <see cref="DashScopeErrorCodes.ClientTimeout"/>. Default 100 s.
    /// </summary>
    public TimeSpan NetworkTimeout { get; set; } = DefaultNetworkTimeout;

    /// <summary>
    /// Whether the client validates requests against the per-model rules (<see cref="DashScopeRequestValidator"/>)
    /// before sending them, throwing <see cref="DashScopeValidationException"/> with every failure. Default true.
    /// Turn it off only to let the service itself judge a request (for example a model or parameter newer than this
    /// library).
    /// </summary>
    public bool ValidateRequests { get; set; } = true;

    /// <summary>Sends <c>X-DashScope-DataInspection: enable</c> on submits when true. Default false.</summary>
    public bool EnableDataInspection { get; set; }

    /// <summary>Resolves the base URL from <see cref="Endpoint"/>, then <see cref="Region"/>, then Beijing.</summary>
    /// <returns>The absolute base URL, always ending without a slash.</returns>
    /// <exception cref="InvalidOperationException">The region name is unknown or the endpoint is not absolute http(s).</exception>
    public Uri GetEndpoint()
    {
        Uri endpoint;
        if (Endpoint is not null)
        {
            if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new InvalidOperationException(
                    $"DashScopeClientOptions.Endpoint must be an absolute http(s) URL; got '{Endpoint}'.");
            }

            endpoint = Endpoint;
        }
        else if (!string.IsNullOrWhiteSpace(Region))
        {
            endpoint = DashScopeRegions.GetEndpoint(Region)
                ?? throw new InvalidOperationException(
                    $"DashScopeClientOptions.Region '{Region}' is unknown; use 'beijing' or 'singapore', or set Endpoint.");
        }
        else
        {
            endpoint = DashScopeRegions.Beijing;
        }

        var text = endpoint.AbsoluteUri.TrimEnd('/');
        return new Uri(text, UriKind.Absolute);
    }

    /// <summary>Resolves the API key: <see cref="ApiKey"/>, else the <c>DASHSCOPE_API_KEY</c> environment variable.</summary>
    /// <returns>The key, or null when none is configured.</returns>
    public string? GetApiKey()
    {
        if (!string.IsNullOrWhiteSpace(ApiKey))
        {
            return ApiKey.Trim();
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment) ? null : fromEnvironment.Trim();
    }

    /// <summary>Describes the options without the API key (it shows only whether one is set).</summary>
    /// <returns>A description safe to log.</returns>
    public override string ToString() =>
        $"DashScopeClientOptions {{ Endpoint = {Endpoint?.ToString() ?? "(unset)"}, Region = {Region ?? "(unset)"}, " +
        $"ApiKey = {(string.IsNullOrWhiteSpace(ApiKey) ? "(unset)" : "***")}, WorkspaceId = {WorkspaceId ?? "(unset)"}, " +
        $"NetworkTimeout = {NetworkTimeout}, ValidateRequests = {ValidateRequests}, EnableDataInspection = {EnableDataInspection} }}";
}

/// <summary>The public DashScope regions and their base URLs.</summary>
public static class DashScopeRegions
{
    /// <summary>China (Beijing): <c>https://dashscope.aliyuncs.com/api/v1</c>. wanx-v1 and wanx2.1-imageedit exist only here.</summary>
    public static Uri Beijing { get; } = new("https://dashscope.aliyuncs.com/api/v1");

    /// <summary>Singapore (international): <c>https://dashscope-intl.aliyuncs.com/api/v1</c>.</summary>
    public static Uri Singapore { get; } = new("https://dashscope-intl.aliyuncs.com/api/v1");

    /// <summary>The base URL of a region by name (case-insensitive): beijing, cn-beijing, singapore, ap-southeast-1, intl.</summary>
    /// <param name="region">The region name.</param>
    /// <returns>The base URL, or null for an unknown name.</returns>
    public static Uri? GetEndpoint(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        return region.Trim().ToUpperInvariant() switch
        {
            "BEIJING" or "CN-BEIJING" or "CN" or "CHINA" => Beijing,
            "SINGAPORE" or "AP-SOUTHEAST-1" or "INTL" or "INTERNATIONAL" => Singapore,
            _ => null,
        };
    }
}
