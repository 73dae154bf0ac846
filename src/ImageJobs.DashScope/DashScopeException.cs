namespace ImageJobs.DashScope;

/// <summary>
/// The one exception the client throws for anything the service (or the network on the way to it) reports:
/// an HTTP error status with DashScope's <c>{code, message, request_id}</c>, an unreadable body, a timeout or a
/// connection failure. Validation failures before any request use <see cref="DashScopeValidationException"/> instead.
/// </summary>
/// <remarks>The message never contains the API key.</remarks>
public class DashScopeException : Exception
{
    /// <summary>Creates an exception with only a message (status 0, not retryable).</summary>
    public DashScopeException()
        : this(0, null, "DashScope request failed.")
    {
    }

    /// <summary>Creates an exception with only a message (status 0, not retryable).</summary>
    /// <param name="message">The message.</param>
    public DashScopeException(string message)
        : this(0, null, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception (status 0, not retryable).</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DashScopeException(string message, Exception? innerException)
        : this(0, null, message, null, IsRetryableError(0, null, message), null, innerException)
    {
    }

    /// <summary>Creates an exception for a service error.</summary>
    /// <param name="status">The HTTP status, or 0 when no response was received.</param>
    /// <param name="code">DashScope's error code, for example <c>Throttling.RateQuota</c>.</param>
    /// <param name="message">DashScope's message (or a description of what went wrong).</param>
    /// <param name="requestId">DashScope's request id, when known.</param>
    /// <param name="isRetryable">Whether retrying the same call may succeed.</param>
    /// <param name="retryAfter">How long the service asked the caller to wait (<c>Retry-After</c>).</param>
    /// <param name="innerException">The cause.</param>
    public DashScopeException(
        int status,
        string? code,
        string message,
        string? requestId = null,
        bool isRetryable = false,
        TimeSpan? retryAfter = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        Code = code;
        RequestId = requestId;
        IsRetryable = isRetryable;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status code, or 0 when no response was received (timeout, connection failure).</summary>
    public int Status { get; }

    /// <summary>DashScope's error code (<c>InvalidParameter</c>, <c>Throttling.RateQuota</c>…), or a client code:
    /// <see cref="DashScopeErrorCodes.ClientTimeout"/>, <see cref="DashScopeErrorCodes.ConnectionFailed"/>,
    /// <see cref="DashScopeErrorCodes.InvalidResponse"/>.</summary>
    public string? Code { get; }

    /// <summary>DashScope's request id, useful when asking Alibaba Cloud support about a call.</summary>
    public string? RequestId { get; }

    /// <summary>
    /// Whether the same call may succeed later: 429 throttling (except "Free allocated quota exceeded."), 5xx, 408,
    /// and client timeouts/connection failures of calls that are safe to repeat. 4xx errors are not retryable.
    /// </summary>
    public bool IsRetryable { get; }

    /// <summary>The delay the service asked for in a <c>Retry-After</c> header (seconds or HTTP date), if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// The retry rule of the DashScope error table, usable on its own (for example on a FAILED task's
    /// <c>output.code</c>, where there is no HTTP status: pass <c>0</c>).
    /// </summary>
    /// <param name="status">The HTTP status, or 0 when unknown.</param>
    /// <param name="code">The DashScope error code.</param>
    /// <param name="message">The DashScope message (the free-quota 429 is told apart by it).</param>
    /// <returns>True when a retry (after backoff) may succeed.</returns>
    public static bool IsRetryableError(int status, string? code, string? message)
    {
        if (IsFreeQuotaExhausted(message))
        {
            return false;
        }

        if (status == 429 || status == 408 || status >= 500)
        {
            return true;
        }

        if (status != 0)
        {
            return false;
        }

        // No HTTP status (task-level failures): classify by code.
        if (string.IsNullOrEmpty(code))
        {
            return false;
        }

        return code.StartsWith(DashScopeErrorCodes.Throttling, StringComparison.Ordinal)
            || code.StartsWith(DashScopeErrorCodes.InternalError, StringComparison.Ordinal)
            || code is DashScopeErrorCodes.SystemError or DashScopeErrorCodes.ModelServiceFailed
                or DashScopeErrorCodes.ModelUnavailable or DashScopeErrorCodes.ModelServingError;
    }

    private static bool IsFreeQuotaExhausted(string? message) =>
        message is not null && message.Contains("Free allocated quota exceeded", StringComparison.OrdinalIgnoreCase);
}

/// <summary>DashScope error codes from the service's error table, plus the codes this client uses itself.</summary>
public static class DashScopeErrorCodes
{
    /// <summary>400: a parameter is invalid.</summary>
    public const string InvalidParameter = "InvalidParameter";

    /// <summary>400: input data (prompt or image) may contain inappropriate content; also per image in results.</summary>
    public const string DataInspectionFailed = "DataInspectionFailed";

    /// <summary>400: input suspected of IP infringement.</summary>
    public const string IPInfringementSuspect = "IPInfringementSuspect";

    /// <summary>400: the account is in arrears.</summary>
    public const string Arrearage = "Arrearage";

    /// <summary>400: the task cannot be canceled (it is no longer PENDING).</summary>
    public const string UnsupportedOperation = "UnsupportedOperation";

    /// <summary>401: missing or invalid API key (or a key from another region).</summary>
    public const string InvalidApiKey = "InvalidApiKey";

    /// <summary>403: access denied (also: async header mismatch).</summary>
    public const string AccessDenied = "AccessDenied";

    /// <summary>404: model not found.</summary>
    public const string ModelNotFound = "ModelNotFound";

    /// <summary>429 family prefix: <c>Throttling</c>, <c>Throttling.RateQuota</c>, <c>Throttling.BurstRate</c>,
    /// <c>Throttling.AllocationQuota</c>.</summary>
    public const string Throttling = "Throttling";

    /// <summary>500 family prefix: <c>InternalError</c>, <c>InternalError.Algo</c>, <c>InternalError.Timeout</c>.</summary>
    public const string InternalError = "InternalError";

    /// <summary>500: the task (or one image) produced nothing within 3 hours; resubmit.</summary>
    public const string InternalErrorTimeout = "InternalError.Timeout";

    /// <summary>500: system error.</summary>
    public const string SystemError = "SystemError";

    /// <summary>500: the model service failed.</summary>
    public const string ModelServiceFailed = "ModelServiceFailed";

    /// <summary>503: the model is unavailable.</summary>
    public const string ModelUnavailable = "ModelUnavailable";

    /// <summary>503: model serving error.</summary>
    public const string ModelServingError = "ModelServingError";

    /// <summary>Client code: no response within <see cref="DashScopeClientOptions.NetworkTimeout"/>.</summary>
    public const string ClientTimeout = "ClientTimeout";

    /// <summary>Client code: the connection failed before a response arrived.</summary>
    public const string ConnectionFailed = "ConnectionFailed";

    /// <summary>Client code: the response body was not the JSON DashScope sends (HTML, truncated, empty…).</summary>
    public const string InvalidResponse = "InvalidResponse";
}
