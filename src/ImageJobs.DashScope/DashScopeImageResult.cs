namespace ImageJobs.DashScope;

/// <summary>One entry of <c>output.results</c>: an image URL, or (partial failure) a per-image <c>code</c>/<c>message</c>.</summary>
public sealed class DashScopeImageResult
{
    internal DashScopeImageResult(string? url, string? originalPrompt, string? actualPrompt, string? code, string? message)
    {
        Url = url;
        OriginalPrompt = originalPrompt;
        ActualPrompt = actualPrompt;
        Code = code;
        Message = message;
    }

    /// <summary><c>url</c>: a signed OSS link valid 24 hours; null for a failed image.</summary>
    public string? Url { get; }

    /// <summary><c>orig_prompt</c>: the prompt as submitted (qwen-image, wan2.5).</summary>
    public string? OriginalPrompt { get; }

    /// <summary><c>actual_prompt</c>: the rewritten prompt when <c>prompt_extend</c> was on.</summary>
    public string? ActualPrompt { get; }

    /// <summary><c>code</c> of a failed image (for example <c>DataInspectionFailed</c>, <c>InternalError.Timeout</c>).</summary>
    public string? Code { get; }

    /// <summary><c>message</c> of a failed image.</summary>
    public string? Message { get; }

    /// <summary>True when the entry carries a URL and no error code.</summary>
    public bool IsSuccess => !string.IsNullOrEmpty(Url) && string.IsNullOrEmpty(Code);
}
