using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using System.Xml.Linq;

namespace ImageJobs.DashScope;

/// <summary>Temporary file uploads: a local file becomes an <c>oss://</c> input.</summary>
public partial class DashScopeClient
{
    /// <summary>The scheme of inputs stored in DashScope's temporary storage.</summary>
    public const string TemporaryFileScheme = "oss://";

    // Upload-policy calls are limited per account and model; every client of one key and model in this process shares
    // one bucket (the DI registration creates a client per resolution).
    private static readonly ConcurrentDictionary<string, TokenBucketRateLimiter> s_policyClocks = new(StringComparer.Ordinal);

    /// <summary>
    /// Uploads a file to DashScope's temporary storage for <paramref name="model"/>: asks for an upload policy, posts
    /// the file with it, and returns the <c>oss://</c> URL (valid 48 hours, for this model and account only). Requests
    /// whose input holds such a URL carry <c>X-DashScope-OssResourceResolve: enable</c> by themselves.
    /// </summary>
    /// <param name="model">The model that will read the file.</param>
    /// <param name="content">The file's bytes (read to the end, not disposed).</param>
    /// <param name="fileName">The file name, unique among the files of one policy (the key is <c>{upload_dir}/{fileName}</c>).</param>
    /// <param name="contentType">The file's media type, for example <c>image/png</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The <c>oss://</c> URL and when it expires.</returns>
    /// <exception cref="DashScopeException">The policy call or the upload failed (the code is the provider's).</exception>
    public virtual async Task<DashScopeTemporaryFile> UploadTemporaryFileAsync(
        string model, Stream content, string fileName, string contentType, CancellationToken cancellationToken = default)
    {
        var policy = await GetUploadPolicyAsync(model, cancellationToken).ConfigureAwait(false);
        return await UploadTemporaryFileAsync(policy, content, fileName, contentType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks for an upload policy (<c>GET uploads?action=getPolicy&amp;model=…</c>). One policy serves every file of a
    /// request until it expires (300 s). Calls are paced below the service's 100 per second per account and model.
    /// </summary>
    /// <param name="model">The model that will read the files.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="DashScopeException">The service refused or the network failed.</exception>
    public virtual async Task<DashScopeUploadPolicy> GetUploadPolicyAsync(string model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var path = "uploads?action=getPolicy&model=" + Uri.EscapeDataString(model);
        using var slot = await PolicyClock(model).AcquireAsync(1, cancellationToken).ConfigureAwait(false);

        using (var document = await SendAsync(HttpMethod.Get, path, null, asyncCall: false, idempotent: true, cancellationToken).ConfigureAwait(false))
        {
            var root = document.RootElement;
            var requestId = DashScopeResponseParser.Str(root, "request_id");
            var data = root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            string Required(string name) =>
                DashScopeResponseParser.Str(data.ValueKind == JsonValueKind.Object ? data : null, name) is { Length: > 0 } value
                    ? value
                    : throw new DashScopeException(200, DashScopeErrorCodes.InvalidResponse,
                        $"DashScope GET /uploads answered without data.{name}.", requestId, isRetryable: true);

            var host = Required("upload_host");
            if (!Uri.TryCreate(host, UriKind.Absolute, out var uploadHost) || (uploadHost.Scheme != Uri.UriSchemeHttps && uploadHost.Scheme != Uri.UriSchemeHttp))
            {
                throw new DashScopeException(200, DashScopeErrorCodes.InvalidResponse,
                    "DashScope GET /uploads answered with an upload_host that is not an http(s) URL.", requestId, isRetryable: false);
            }

            var expiresIn = Number(data, "expire_in_seconds") ?? 300;
            var policy = new DashScopeUploadPolicy(
                model, uploadHost, Required("upload_dir").TrimEnd('/'), Required("policy"), Required("signature"), Required("oss_access_key_id"),
                DashScopeResponseParser.Str(data, "x_oss_object_acl"), DashScopeResponseParser.Str(data, "x_oss_forbid_overwrite"),
                DateTimeOffset.UtcNow.AddSeconds(expiresIn), Number(data, "max_file_size_mb"), requestId);
            Log.UploadPolicyReceived(_logger, model, policy.UploadHost.Host, requestId);
            return policy;
        }
    }

    /// <summary>
    /// Posts a file to the policy's upload host (the form DashScope's SDKs send: <c>OSSAccessKeyId</c>, <c>Signature</c>,
    /// <c>policy</c>, <c>key</c>, <c>x-oss-object-acl</c>, <c>x-oss-forbid-overwrite</c>, <c>success_action_status</c>,
    /// <c>x-oss-content-type</c>, <c>file</c>). The API key is not sent there.
    /// </summary>
    /// <param name="policy">A policy from <see cref="GetUploadPolicyAsync"/>, not yet expired.</param>
    /// <param name="content">The file's bytes (read to the end, not disposed).</param>
    /// <param name="fileName">The file name, unique among this policy's files.</param>
    /// <param name="contentType">The file's media type.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The <c>oss://</c> URL and when it expires.</returns>
    /// <exception cref="DashScopeException">The storage refused (its XML error code, e.g. <c>AccessDenied</c>,
    /// <c>EntityTooLarge</c>, <c>FileAlreadyExists</c>) or the network failed.</exception>
    public virtual async Task<DashScopeTemporaryFile> UploadTemporaryFileAsync(
        DashScopeUploadPolicy policy, Stream content, string fileName, string contentType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentException.ThrowIfNullOrWhiteSpace(contentType);
        if (fileName.Contains('/', StringComparison.Ordinal) || fileName.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException("The file name must not contain a path separator.", nameof(fileName));
        }

        var key = policy.UploadDirectory + "/" + fileName;
        const string Operation = "POST upload host";
        using var timeout = NetworkTimeout(cancellationToken);

        var started = Stopwatch.GetTimestamp();
        int status;
        byte[] body;
        try
        {
            using var form = BuildUploadForm(policy, key, content, fileName, contentType);
            using var message = new HttpRequestMessage(HttpMethod.Post, policy.UploadHost) { Content = form };
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            message.Headers.Date = DateTimeOffset.UtcNow;
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            body = await ReadContentAsync(response.Content, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransportFailure(ex, Operation, idempotent: false, cancellationToken,
            " The file may have been stored; upload it again under another name.") is { } failure)
        {
            throw failure;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (status is < 200 or > 299)
        {
            var (code, text, requestId) = ParseStorageError(body);
            Log.RequestRejected(_logger, Operation, status, code, requestId, elapsed.TotalMilliseconds);
            throw new DashScopeException(
                status, code,
                code is null
                    ? $"DashScope temporary storage returned HTTP {status} without an error document: {Snippet(body)}"
                    : $"DashScope temporary storage returned HTTP {status} {code}: {text}" + (requestId is null ? string.Empty : $" (request id {requestId})"),
                requestId, DashScopeException.IsRetryableError(status, code, text));
        }

        Log.RequestCompleted(_logger, Operation, status, null, elapsed.TotalMilliseconds);
        return new DashScopeTemporaryFile(TemporaryFileScheme + key, policy.Model, DateTimeOffset.UtcNow + DashScopeModels.TemporaryFileRetention);
    }

    /// <summary>The form, field by field in the order the official SDKs send it (<c>oss_utils.upload</c> in the Python SDK).</summary>
    internal static MultipartFormDataContent BuildUploadForm(DashScopeUploadPolicy policy, string key, Stream content, string fileName, string contentType)
    {
        var form = new MultipartFormDataContent();
        void Field(string name, string? value)
        {
            var part = new StringContent(value ?? string.Empty, Encoding.UTF8);
            part.Headers.ContentType = null; // plain form fields, as browsers and the SDKs send them
            part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = Quote(name) };
            form.Add(part);
        }

        Field("OSSAccessKeyId", policy.AccessKeyId);
        Field("Signature", policy.Signature);
        Field("policy", policy.Policy);
        Field("key", key);
        Field("x-oss-object-acl", policy.ObjectAcl);
        Field("x-oss-forbid-overwrite", policy.ForbidOverwrite);
        Field("success_action_status", "200");
        Field("x-oss-content-type", contentType);
#pragma warning disable CA2000 // The form owns the part and is disposed by the caller.
        var file = new StreamContent(content);
#pragma warning restore CA2000
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = Quote("file"), FileName = Quote(fileName) };
        form.Add(file);
        return form;

        static string Quote(string value) => "\"" + value.Replace("\"", "%22", StringComparison.Ordinal) + "\"";
    }

    /// <summary>Whether a request input holds an <c>oss://</c> URL anywhere (then the resolve header is needed).</summary>
    internal static bool HasTemporaryFile(JsonNode input) => input switch
    {
        JsonObject o => o.Any(p => p.Value is not null && HasTemporaryFile(p.Value)),
        JsonArray a => a.Any(v => v is not null && HasTemporaryFile(v)),
        JsonValue v => v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().StartsWith(TemporaryFileScheme, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private static (string? Code, string? Message, string? RequestId) ParseStorageError(byte[] body)
    {
        try
        {
            var root = XDocument.Parse(Encoding.UTF8.GetString(body)).Root;
            return root?.Name.LocalName == "Error"
                ? (root.Element("Code")?.Value, root.Element("Message")?.Value, root.Element("RequestId")?.Value)
                : (null, null, null);
        }
        catch (System.Xml.XmlException)
        {
            return (null, null, null);
        }
    }

    private static int? Number(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.Number when value.TryGetInt32(out var n) => n,
                JsonValueKind.String when int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
                _ => null,
            }
            : null;

    private TokenBucketRateLimiter PolicyClock(string model)
    {
        // Keyed by a hash of the key (never the key itself), the endpoint and the model: one token every 1/80 s (80 per
        // second for the 100 allowed), callers queued oldest first. Timers tick in whole milliseconds (12.5 ms would
        // run as 12), so the period is rounded up: 13 ms, 77 per second.
        var account = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(_apiKey)), 0, 8);
        return s_policyClocks.GetOrAdd(
            Endpoint.AbsoluteUri + "|" + account + "|" + model,
            _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = 1,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMilliseconds(Math.Ceiling(1000.0 / (DashScopeModels.UploadPolicyRequestsPerSecond * DashScopeModels.LimitHeadroom))),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            }));
    }
}
