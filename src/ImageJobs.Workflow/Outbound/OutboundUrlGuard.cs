using System.Net;
using System.Net.Sockets;

namespace ImageJobs.Workflow.Outbound;

/// <summary>
/// The one SSRF guard for outbound URLs. It allows <c>http</c>/<c>https</c> only, and refuses loopback, private, shared,
/// link-local, multicast, reserved and cloud-metadata addresses (IPv4 and IPv6; every IPv6 form that embeds an IPv4
/// address is judged by that address), checked on
/// the addresses a name resolves to, unless <see cref="OutboundOptions"/> allows them. Use <see cref="CheckAsync"/> to
/// validate a URL early (a refused URL is a 400 at submission) and <see cref="CreateHandler"/> for the
/// <see cref="HttpClient"/> that makes the call, which checks again at connect time and on every redirect, so DNS
/// rebinding and redirects to internal hosts are refused too.
/// </summary>
public sealed class OutboundUrlGuard
{
    private readonly OutboundOptions _options;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    /// <summary>Creates a guard that resolves names with <see cref="Dns"/>.</summary>
    public OutboundUrlGuard(OutboundOptions options)
        : this(options, static (host, ct) => Dns.GetHostAddressesAsync(host, ct))
    {
    }

    /// <summary>Creates a guard with a custom resolver (tests).</summary>
    public OutboundUrlGuard(OutboundOptions options, Func<string, CancellationToken, Task<IPAddress[]>> resolve)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolve);
        _options = options;
        _resolve = resolve;
    }

    /// <summary>The options this guard applies.</summary>
    public OutboundOptions Options => _options;

    /// <summary>
    /// Checks a URL: scheme, then the host's addresses. Returns <see langword="null"/> when it may be called, else the
    /// reason it is refused (safe to show to the caller: it names the host, never credentials).
    /// </summary>
    public async Task<string?> CheckAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (CheckSyntax(uri) is { } syntax)
        {
            return syntax;
        }

        if (IsAllowListed(uri.Host, uri.Port))
        {
            return null;
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await _resolve(uri.IdnHost, cancellationToken);
            }
            catch (SocketException)
            {
                return $"host '{uri.Host}' could not be resolved";
            }
        }

        if (addresses.Length == 0)
        {
            return $"host '{uri.Host}' could not be resolved";
        }

        foreach (var address in addresses)
        {
            if (CheckAddress(address) is { } reason && !await IsAllowListedAddressAsync(address, uri.Port, cancellationToken))
            {
                return $"host '{uri.Host}' resolves to {reason}";
            }
        }

        return null;
    }

    /// <summary>Checks the parts of a URL that need no DNS: absolute, http(s), no credentials.</summary>
    public static string? CheckSyntax(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            return "the URL must be absolute";
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return $"scheme '{uri.Scheme}' is not allowed (http or https only)";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "credentials in the URL are not allowed";
        }

        return null;
    }

    /// <summary>
    /// Classifies one address. Returns <see langword="null"/> for a public address (or any address when private
    /// networks are allowed, except metadata), else a short description of why it is refused.
    /// </summary>
    public string? CheckAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var kind = Classify(address);
        if (kind is null)
        {
            return null;
        }

        if (kind == MetadataKind)
        {
            return IsAllowListed(address.ToString(), port: null) ? null : $"{address} ({kind})";
        }

        return _options.AllowPrivateNetworks ? null : $"{address} ({kind})";
    }

    private const string MetadataKind = "cloud metadata endpoint";

    /// <summary>Names the non-public range an address falls in, or <see langword="null"/> for a public address.</summary>
    public static string? Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return (b[0], b[1], b[2], b[3]) switch
            {
                (169, 254, 169, 254) or (100, 100, 100, 200) or (168, 63, 129, 16) => MetadataKind,
                (0, _, _, _) => "unspecified/this-network",
                (10, _, _, _) => "private 10.0.0.0/8",
                (100, >= 64 and <= 127, _, _) => "shared address space 100.64.0.0/10",
                (127, _, _, _) => "loopback",
                (169, 254, _, _) => "link-local",
                (172, >= 16 and <= 31, _, _) => "private 172.16.0.0/12",
                (192, 0, 0, _) => "IETF protocol assignments",
                (192, 168, _, _) => "private 192.168.0.0/16",
                (198, 18 or 19, _, _) => "benchmarking 198.18.0.0/15",
                (>= 224 and <= 239, _, _, _) => "multicast",
                (>= 240, _, _, _) => "reserved",
                _ => null,
            };
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return "loopback";
            }

            if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
            {
                return "unspecified";
            }

            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2)
            {
                return MetadataKind; // fd00:ec2::254 and its /32.
            }

            if (address.IsIPv6LinkLocal || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
            {
                return "link-local";
            }

            if (address.IsIPv6SiteLocal)
            {
                return "site-local";
            }

            if ((b[0] & 0xfe) == 0xfc)
            {
                return "unique local fc00::/7";
            }

            if (address.IsIPv6Multicast)
            {
                return "multicast";
            }

            // Every form that embeds an IPv4 address is judged by the address it embeds.
            foreach (var embedded in EmbeddedIPv4(b))
            {
                if (Classify(embedded) is { } kind)
                {
                    return kind;
                }
            }

            return null;
        }

        return "unsupported address family";
    }

    /// <summary>
    /// The IPv4 addresses an IPv6 address carries: IPv4-mapped (<c>::ffff:a.b.c.d</c>), IPv4-compatible
    /// (<c>::a.b.c.d</c>), IPv4-translated (<c>::ffff:0:a.b.c.d</c>), NAT64 (<c>64:ff9b::/96</c> and the local-use
    /// <c>64:ff9b:1::/48</c>), 6to4 (<c>2002::/16</c>) and Teredo (<c>2001::/32</c>: its obfuscated client address, then its server).
    /// </summary>
    private static List<IPAddress> EmbeddedIPv4(ReadOnlySpan<byte> b)
    {
        var found = new List<IPAddress>();
        var zeros = b[..8].IndexOfAnyExcept((byte)0) < 0;
        if (zeros && ((b[8..12].IndexOfAnyExcept((byte)0) < 0) // ::a.b.c.d
            || (b[8] == 0 && b[9] == 0 && b[10] == 0xff && b[11] == 0xff) // ::ffff:a.b.c.d
            || (b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0))) // ::ffff:0:a.b.c.d
        {
            found.Add(new IPAddress(b[12..]));
        }
        else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].IndexOfAnyExcept((byte)0) < 0)
        {
            found.Add(new IPAddress(b[12..]));
        }
        else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01)
        {
            found.Add(new IPAddress([b[6], b[7], b[9], b[10]])); // RFC 6052 /48: bits 64-71 are the "u" octet
        }
        else if (b[0] == 0x20 && b[1] == 0x02)
        {
            found.Add(new IPAddress(b[2..6]));
        }
        else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        {
            found.Add(new IPAddress([(byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15]]));
            found.Add(new IPAddress(b[4..8]));
        }

        return found;
    }

    /// <summary>Whether the host (and port, when an entry names one) is in <see cref="OutboundOptions.AllowedHosts"/> by its text.</summary>
    public bool IsAllowListed(string host, int? port)
    {
        ArgumentNullException.ThrowIfNull(host);
        host = host.Trim('[', ']');
        foreach (var (entry, entryPort) in AllowedEntries())
        {
            if (entryPort is not null && port is not null && entryPort != port)
            {
                continue;
            }

            if (entry.StartsWith("*.", StringComparison.Ordinal)
                ? host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase)
                : string.Equals(host, entry, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether an address is in <see cref="OutboundOptions.AllowedHosts"/> on <paramref name="port"/>: an entry's IP
    /// literal, or an address an entry's name resolves to (never for a cloud metadata address: those only by literal).
    /// <c>::1</c> counts as <c>127.0.0.1</c>, so a loopback entry allows a name that resolves to both.
    /// </summary>
    public async Task<bool> IsAllowListedAddressAsync(IPAddress address, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var wanted = Comparable(address);
        var byNameToo = Classify(address) != MetadataKind;
        foreach (var (entry, entryPort) in AllowedEntries())
        {
            if ((entryPort is not null && entryPort != port) || entry.StartsWith("*.", StringComparison.Ordinal))
            {
                continue;
            }

            IPAddress[] candidates;
            if (IPAddress.TryParse(entry, out var literal))
            {
                candidates = [literal];
            }
            else if (!byNameToo)
            {
                continue;
            }
            else
            {
                try
                {
                    candidates = await _resolve(entry, cancellationToken);
                }
                catch (SocketException)
                {
                    continue;
                }
            }

            if (candidates.Any(c => Comparable(c).Equals(wanted)))
            {
                return true;
            }
        }

        return false;
    }

    private static IPAddress Comparable(IPAddress address) =>
        address.Equals(IPAddress.IPv6Loopback) ? IPAddress.Loopback : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    // The allow-list as (host, port) pairs: "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal.
    private IEnumerable<(string Host, int? Port)> AllowedEntries()
    {
        foreach (var raw in _options.AllowedHosts)
        {
            var entry = raw.Trim();
            int? entryPort = null;
            var colon = entry.LastIndexOf(':');
            if (colon > 0 && (entry.IndexOf(':', StringComparison.Ordinal) == colon || entry[colon - 1] == ']')
                && int.TryParse(entry.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var p))
            {
                entryPort = p;
                entry = entry[..colon];
            }

            yield return (entry.Trim('[', ']'), entryPort);
        }
    }

    /// <summary>
    /// Creates the handler for guarded <see cref="HttpClient"/>s: every connection's actual remote address is checked
    /// (closing the DNS-rebinding gap between <see cref="CheckAsync"/> and the call), and redirects are followed by hand
    /// with each hop checked again. Automatic decompression is on.
    /// </summary>
    public HttpMessageHandler CreateHandler()
    {
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = ConnectAsync,
        };
        return new RedirectHandler(this, sockets);
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var allowListed = IsAllowListed(endpoint.Host, endpoint.Port);
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await _resolve(endpoint.Host, cancellationToken);
        Exception? last = null;
        foreach (var address in addresses)
        {
            if (!allowListed && CheckAddress(address) is { } reason && !await IsAllowListedAddressAsync(address, endpoint.Port, cancellationToken))
            {
                throw new OutboundUrlRefusedException($"Outbound call refused: host '{endpoint.Host}' resolves to {reason}.");
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
        }

        throw new HttpRequestException($"Could not connect to '{endpoint.Host}:{endpoint.Port}'.", last);
    }

    private sealed class RedirectHandler(OutboundUrlGuard guard, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var origin = request.RequestUri!;
            var hasBody = request.Content is not null;
            for (var hop = 0; ; hop++)
            {
                if (CheckSyntax(request.RequestUri!) is { } syntax)
                {
                    throw new OutboundUrlRefusedException($"Outbound call refused: {syntax}.");
                }

                HttpResponseMessage response;
                try
                {
                    response = await base.SendAsync(request, cancellationToken);
                }
                catch (HttpRequestException ex) when (ex.InnerException is OutboundUrlRefusedException refused)
                {
                    // SocketsHttpHandler wraps what the connect callback throws; surface the refusal itself.
                    throw new OutboundUrlRefusedException(refused.Message, ex);
                }

                var status = (int)response.StatusCode;
                if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is null)
                {
                    return response;
                }

                if (hop >= guard._options.MaxRedirects)
                {
                    response.Dispose();
                    throw new OutboundUrlRefusedException($"Outbound call refused: more than {guard._options.MaxRedirects} redirects.");
                }

                var next = new Uri(request.RequestUri!, response.Headers.Location);
                response.Dispose();
                if (hasBody && !guard._options.RedirectBodiesToOtherHosts && Uri.Compare(origin, next, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
                {
                    // A signed body (and its signature headers) goes only to the host it was addressed to.
                    throw new OutboundUrlRefusedException(
                        $"Outbound call refused: '{origin.Host}' redirected ({status}) to another host, '{next.Host}'; a request with a body is not sent on to another host unless ImageJobs:Outbound:RedirectBodiesToOtherHosts is set.");
                }

                var method = status == 303 || (status is 301 or 302 && request.Method == HttpMethod.Post) ? HttpMethod.Get : request.Method;
                var copy = new HttpRequestMessage(method, next);
                foreach (var header in request.Headers)
                {
                    if (!string.Equals(header.Key, "Authorization", StringComparison.OrdinalIgnoreCase) || next.Host == request.RequestUri!.Host)
                    {
                        copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    }
                }

                if (method == request.Method && request.Content is not null)
                {
                    copy.Content = request.Content;
                }

                request = copy;
            }
        }
    }
}

/// <summary>Thrown when the outbound guard refuses a URL or a connection. Never retried.</summary>
public sealed class OutboundUrlRefusedException : HttpRequestException
{
    /// <summary>Creates the exception.</summary>
    public OutboundUrlRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public OutboundUrlRefusedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public OutboundUrlRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
