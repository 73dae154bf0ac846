using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageJobs.DashScope;

/// <summary>
/// Client of DashScope image generation: submit a task, poll it, cancel it, list tasks, or make the synchronous
/// qwen-image call. Thread-safe; create one and share it (it shares one <see cref="HttpClient"/>).
/// </summary>
/// <remarks>
/// Typical use: <c>var task = await client.SubmitAsync(request);</c> then poll
/// <c>await client.GetTaskAsync(task.TaskId)</c> until <see cref="DashScopeTaskStatus.IsTerminal"/>, then copy
/// <see cref="DashScopeTask.ImageUrls"/> out within 24 hours.
/// </remarks>
public partial class DashScopeClient
{
    /// <summary>Header that makes image-synthesis calls asynchronous (required on submits; refused by the sync call).</summary>
    public const string AsyncHeader = "X-DashScope-Async";

    /// <summary>Header carrying the workspace id.</summary>
    public const string WorkspaceHeader = "X-DashScope-WorkSpace";

    /// <summary>Header that asks for data inspection.</summary>
    public const string DataInspectionHeader = "X-DashScope-DataInspection";

    /// <summary>Header that lets the service read <c>oss://</c> inputs from its temporary storage (sent by the client
    /// on every request whose input holds one).</summary>
    public const string OssResourceResolveHeader = "X-DashScope-OssResourceResolve";

    private const int SnippetLength = 200;

    private static readonly Lazy<HttpClient> s_sharedHttpClient = new(CreateSharedHttpClient);

    private readonly HttpClient _http = null!;
    private readonly DashScopeClientOptions _options = null!;
    private readonly string _apiKey = null!;
    private readonly ILogger _logger = NullLogger.Instance;

    /// <summary>For mocking only.</summary>
    protected DashScopeClient()
    {
    }

    /// <summary>
    /// Creates a client on a process-wide shared <see cref="HttpClient"/> (pooled connections, gzip decompression).
    /// </summary>
    /// <param name="options">The options; the key comes from <see cref="DashScopeClientOptions.ApiKey"/> or <c>DASHSCOPE_API_KEY</c>.</param>
    /// <exception cref="InvalidOperationException">No API key, or an invalid endpoint/region.</exception>
    public DashScopeClient(DashScopeClientOptions options)
        : this(s_sharedHttpClient.Value, options)
    {
    }

    /// <summary>Creates a client on the given <see cref="HttpClient"/> (for example one from <c>IHttpClientFactory</c>).</summary>
    /// <param name="httpClient">The HTTP client; its <c>BaseAddress</c> is not used. Compressed bodies are handled even
    /// when its handler does not decompress.</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">Optional logger (never sees the API key).</param>
    /// <exception cref="InvalidOperationException">No API key, or an invalid endpoint/region.</exception>
    public DashScopeClient(HttpClient httpClient, DashScopeClientOptions options, ILogger<DashScopeClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        if (options.NetworkTimeout <= TimeSpan.Zero && options.NetworkTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new InvalidOperationException(
                $"DashScopeClientOptions.NetworkTimeout must be positive (or Timeout.InfiniteTimeSpan); got {options.NetworkTimeout}.");
        }

        _http = httpClient;
        _options = options;
        Endpoint = options.GetEndpoint();
        _apiKey = options.GetApiKey()
            ?? throw new InvalidOperationException(
                "No DashScope API key: set DashScopeClientOptions.ApiKey (configuration DashScope:ApiKey) or the DASHSCOPE_API_KEY environment variable.");
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The base URL requests go to, for example <c>https://dashscope.aliyuncs.com/api/v1</c>.</summary>
    public virtual Uri Endpoint { get; } = DashScopeRegions.Beijing;

    /// <summary>
    /// Submits an asynchronous image-synthesis task (with <c>X-DashScope-Async: enable</c>) to the text2image or
    /// image2image endpoint the model uses.
    /// </summary>
    /// <param name="request">A typed request or one from <see cref="DashScopeImageRequest.FromJson(JsonObject)"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task id and its first status.</returns>
    /// <exception cref="DashScopeValidationException">The request breaks the model's rules (nothing was sent).</exception>
    /// <exception cref="DashScopeException">The service or the network failed.</exception>
    public virtual async Task<DashScopeTaskSubmission> SubmitAsync(DashScopeImageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.IsSynchronousCall)
        {
            throw new ArgumentException(
                "This request has input.messages: it is the synchronous qwen-image call; send it with GenerateAsync.", nameof(request));
        }

        var body = request.ToJson();
        if (_options.ValidateRequests)
        {
            DashScopeRequestValidator.ThrowIfInvalid(body);
        }

        var path = request.TaskKind == DashScopeTaskKind.ImageToImage
            ? "services/aigc/image2image/image-synthesis"
            : "services/aigc/text2image/image-synthesis";
        using var document = await SendAsync(HttpMethod.Post, path, body, asyncCall: true, idempotent: false, cancellationToken)
            .ConfigureAwait(false);
        var submission = DashScopeResponseParser.ParseSubmission(document.RootElement);
        if (string.IsNullOrEmpty(submission.TaskId))
        {
            throw new DashScopeException(
                200, DashScopeErrorCodes.InvalidResponse, "DashScope accepted the submit but returned no output.task_id.",
                submission.RequestId, isRetryable: false);
        }

        Log.TaskSubmitted(_logger, request.Model, submission.TaskId, submission.RequestId);
        return submission;
    }

    /// <summary>
    /// Makes the synchronous qwen-image call (<c>POST services/aigc/multimodal-generation/generation</c>, without the
    /// async header): one request, one image.
    /// </summary>
    /// <param name="request">A <see cref="QwenImageRequest"/> (sent as <see cref="QwenImageRequest.ToMultimodalJson"/>) or a
    /// raw request whose input has <c>messages</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The image URL(s), metrics and usage.</returns>
    /// <exception cref="DashScopeValidationException">The request breaks the model's rules (nothing was sent).</exception>
    /// <exception cref="DashScopeException">The service or the network failed.</exception>
    public virtual async Task<DashScopeGenerationResult> GenerateAsync(DashScopeImageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        JsonObject body;
        if (request is QwenImageRequest qwen)
        {
            body = qwen.ToMultimodalJson();
        }
        else if (request.IsSynchronousCall)
        {
            body = request.ToJson();
        }
        else if (DashScopeModels.IsQwenImage(request.Model))
        {
            throw new ArgumentException(
                "This request is in the asynchronous shape (input.prompt): send it with SubmitAsync, or give the synchronous call " +
                "a QwenImageRequest or a body with input.messages.", nameof(request));
        }
        else
        {
            throw new ArgumentException(
                $"Only qwen-image and qwen-image-plus have the synchronous call; submit {request.Model} with SubmitAsync.", nameof(request));
        }

        if (_options.ValidateRequests)
        {
            DashScopeRequestValidator.ThrowIfInvalid(body);
        }

        using var document = await SendAsync(
            HttpMethod.Post, "services/aigc/multimodal-generation/generation", body, asyncCall: false, idempotent: false, cancellationToken)
            .ConfigureAwait(false);
        return DashScopeResponseParser.ParseGeneration(document.RootElement);
    }

    /// <summary>Reads a task (<c>GET tasks/{task_id}</c>). An unknown or expired id gives status UNKNOWN, not an error.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task.</returns>
    /// <exception cref="DashScopeException">The service or the network failed.</exception>
    public virtual async Task<DashScopeTask> GetTaskAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskId);
        using var document = await SendAsync(
            HttpMethod.Get, "tasks/" + Uri.EscapeDataString(taskId), null, asyncCall: false, idempotent: true, cancellationToken)
            .ConfigureAwait(false);
        return DashScopeResponseParser.ParseTask(document.RootElement);
    }

    /// <summary>Cancels a PENDING task (<c>POST tasks/{task_id}/cancel</c>). Other states fail with 400 UnsupportedOperation.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The request id.</returns>
    /// <exception cref="DashScopeException">The service refused (not PENDING) or the network failed.</exception>
    public virtual async Task<DashScopeCancelResult> CancelTaskAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskId);
        using var document = await SendAsync(
            HttpMethod.Post, "tasks/" + Uri.EscapeDataString(taskId) + "/cancel", null, asyncCall: false, idempotent: true, cancellationToken)
            .ConfigureAwait(false);
        return new DashScopeCancelResult(DashScopeResponseParser.Str(document.RootElement, "request_id"));
    }

    /// <summary>Lists tasks (<c>GET tasks?…</c>); without a query, the last 24 hours, first page.</summary>
    /// <param name="query">Filters and paging.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One page.</returns>
    /// <exception cref="DashScopeException">The service or the network failed.</exception>
    public virtual async Task<DashScopeTaskList> ListTasksAsync(DashScopeTaskListQuery? query = null, CancellationToken cancellationToken = default)
    {
        var path = "tasks" + BuildListQuery(query);
        using var document = await SendAsync(HttpMethod.Get, path, null, asyncCall: false, idempotent: true, cancellationToken)
            .ConfigureAwait(false);
        return DashScopeResponseParser.ParseList(document.RootElement);
    }

    internal static string BuildListQuery(DashScopeTaskListQuery? query)
    {
        if (query is null)
        {
            return string.Empty;
        }

        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        static string? Time(DateTimeOffset? time) =>
            time?.ToOffset(TimeSpan.FromHours(8)).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

        Add("task_id", query.TaskId);
        Add("start_time", Time(query.StartTime));
        Add("end_time", Time(query.EndTime));
        Add("model_name", query.ModelName);
        Add("status", query.Status?.Value);
        Add("page_no", query.PageNo?.ToString(CultureInfo.InvariantCulture));
        Add("page_size", query.PageSize?.ToString(CultureInfo.InvariantCulture));
        return parts.Count == 0 ? string.Empty : "?" + string.Join("&", parts);
    }

    private async Task<JsonDocument> SendAsync(
        HttpMethod method, string path, JsonObject? body, bool asyncCall, bool idempotent, CancellationToken cancellationToken)
    {
        var uri = new Uri(Endpoint.AbsoluteUri + "/" + path, UriKind.Absolute);
        var operation = method.Method + " /" + path.Split('?')[0];
        using var timeout = NetworkTimeout(cancellationToken);

        var started = Stopwatch.GetTimestamp();
        int status;
        byte[] content;
        TimeSpan? retryAfter;
        string? headerRequestId;
        try
        {
            using var message = new HttpRequestMessage(method, uri);
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            message.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
            if (asyncCall)
            {
                message.Headers.Add(AsyncHeader, "enable");
                if (_options.EnableDataInspection)
                {
                    message.Headers.Add(DataInspectionHeader, "enable");
                }
            }

            if (!string.IsNullOrWhiteSpace(_options.WorkspaceId))
            {
                message.Headers.Add(WorkspaceHeader, _options.WorkspaceId.Trim());
            }

            if (body?["input"] is { } input && HasTemporaryFile(input))
            {
                message.Headers.Add(OssResourceResolveHeader, "enable");
            }

            if (body is not null)
            {
                message.Content = new StringContent(body.ToJsonString(DashScopeImageRequest.WireJson), Encoding.UTF8, "application/json");
            }

            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            retryAfter = RetryAfter(response.Headers);
            headerRequestId = HeaderRequestId(response.Headers);
            content = await ReadContentAsync(response.Content, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransportFailure(ex, operation, idempotent, cancellationToken) is { } failure)
        {
            throw failure;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        JsonDocument? document = null;
        JsonException? parseError = null;
        try
        {
            if (content.Length > 0)
            {
                document = JsonDocument.Parse(content);
            }
        }
        catch (JsonException ex)
        {
            parseError = ex;
        }

        var root = document?.RootElement;
        var requestId = DashScopeResponseParser.Str(root, "request_id") ?? headerRequestId;
        if (status is < 200 or > 299)
        {
            using (document)
            {
                var code = DashScopeResponseParser.Str(root, "code");
                var text = DashScopeResponseParser.Str(root, "message");
                Log.RequestRejected(_logger, operation, status, code, requestId, elapsed.TotalMilliseconds);
                if (string.IsNullOrEmpty(code) && string.IsNullOrEmpty(text))
                {
                    throw new DashScopeException(
                        status, null,
                        $"DashScope {operation} returned HTTP {status} without a DashScope error body: {Snippet(content)}",
                        requestId, DashScopeException.IsRetryableError(status, null, null), retryAfter, parseError);
                }

                throw new DashScopeException(
                    status, code,
                    $"DashScope {operation} returned HTTP {status} {code}: {text}" + (requestId is null ? string.Empty : $" (request id {requestId})"),
                    requestId, DashScopeException.IsRetryableError(status, code, text), retryAfter);
            }
        }

        if (document is null || root is not { ValueKind: JsonValueKind.Object })
        {
            document?.Dispose();
            throw new DashScopeException(
                status, DashScopeErrorCodes.InvalidResponse,
                $"DashScope {operation} returned HTTP {status} with a body that is not a JSON object " +
                $"({(parseError is null ? "empty or not an object" : "unreadable JSON")}): {Snippet(content)}",
                requestId, isRetryable: idempotent, innerException: parseError);
        }

        Log.RequestCompleted(_logger, operation, status, requestId, elapsed.TotalMilliseconds);
        return document;
    }

    /// <summary>A token that ends with the caller's or after <see cref="DashScopeClientOptions.NetworkTimeout"/>.</summary>
    private CancellationTokenSource NetworkTimeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_options.NetworkTimeout != Timeout.InfiniteTimeSpan)
        {
            timeout.CancelAfter(_options.NetworkTimeout);
        }

        return timeout;
    }

    /// <summary>
    /// Maps a failure before a complete response (timeout, connection, cut body, bad compression) to a
    /// <see cref="DashScopeException"/>; null for anything else (including the caller's own cancellation).
    /// </summary>
    private DashScopeException? TransportFailure(
        Exception ex, string operation, bool idempotent, CancellationToken cancellationToken,
        string notIdempotentHint = " The task may still have been created; list tasks before resubmitting.")
    {
        switch (ex)
        {
            case OperationCanceledException when !cancellationToken.IsCancellationRequested:
                Log.RequestTimedOut(_logger, operation, _options.NetworkTimeout);
                return new DashScopeException(
                    0, DashScopeErrorCodes.ClientTimeout,
                    $"DashScope {operation} got no complete response within {_options.NetworkTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s " +
                    "(DashScopeClientOptions.NetworkTimeout, or the HttpClient's own Timeout if shorter)." +
                    (idempotent ? string.Empty : notIdempotentHint),
                    null, isRetryable: idempotent, innerException: ex);
            case HttpRequestException http:
                var nothingSent = http.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
                Log.RequestFailed(_logger, operation, http.HttpRequestError.ToString());
                return new DashScopeException(
                    0, DashScopeErrorCodes.ConnectionFailed,
                    $"DashScope {operation} failed before a response arrived ({http.HttpRequestError}): {http.Message}",
                    null, isRetryable: idempotent || nothingSent, innerException: ex);
            case IOException:
                // Includes HttpIOException: the connection closed before the whole body arrived.
                Log.RequestFailed(_logger, operation, ex.GetType().Name);
                return new DashScopeException(
                    0, DashScopeErrorCodes.InvalidResponse,
                    $"DashScope {operation} response ended before its whole body arrived: {ex.Message}",
                    null, isRetryable: idempotent, innerException: ex);
            case InvalidDataException:
                return new DashScopeException(
                    0, DashScopeErrorCodes.InvalidResponse, $"DashScope {operation} returned a body that could not be decompressed: {ex.Message}",
                    null, isRetryable: idempotent, innerException: ex);
            default:
                return null;
        }
    }

    private static async Task<byte[]> ReadContentAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var encodings = content.Headers.ContentEncoding;
        if (encodings.Count == 0)
        {
            return bytes;
        }

        // The handler did not decompress (an HttpClient without AutomaticDecompression): do it here.
        foreach (var encoding in encodings.Reverse())
        {
            Stream? decoder = encoding.ToUpperInvariant() switch
            {
                "GZIP" or "X-GZIP" => new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress),
                "DEFLATE" => new ZLibStream(new MemoryStream(bytes), CompressionMode.Decompress),
                "BR" => new BrotliStream(new MemoryStream(bytes), CompressionMode.Decompress),
                _ => null,
            };
            if (decoder is null)
            {
                continue;
            }

            await using (decoder.ConfigureAwait(false))
            {
                using var output = new MemoryStream();
                await decoder.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                bytes = output.ToArray();
            }
        }

        return bytes;
    }

    private static string? HeaderRequestId(HttpResponseHeaders headers)
    {
        foreach (var name in new[] { "x-request-id", "x-dashscope-request-id", "x-acs-request-id" })
        {
            if (headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { Length: > 0 } value)
            {
                return value;
            }
        }

        return null;
    }

    private static TimeSpan? RetryAfter(HttpResponseHeaders headers)
    {
        var retryAfter = headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static string Snippet(byte[] content)
    {
        if (content.Length == 0)
        {
            return "(empty body)";
        }

        var text = Encoding.UTF8.GetString(content, 0, Math.Min(content.Length, SnippetLength * 4));
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length <= SnippetLength ? text : string.Concat(text.AsSpan(0, SnippetLength), "…");
    }

    private static HttpClient CreateSharedHttpClient()
    {
#pragma warning disable CA2000 // The shared handler lives as long as the process.
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate | DecompressionMethods.Brotli,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
#pragma warning restore CA2000
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Creates the handler the DI registration uses (gzip/deflate/brotli decompression on).</summary>
    /// <returns>A new handler.</returns>
    internal static SocketsHttpHandler CreateHandler() => new()
    {
        AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate | DecompressionMethods.Brotli,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    };
}
