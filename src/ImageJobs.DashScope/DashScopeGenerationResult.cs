namespace ImageJobs.DashScope;

/// <summary>The answer of the synchronous qwen-image call (<c>multimodal-generation/generation</c>).</summary>
public sealed class DashScopeGenerationResult
{
    internal DashScopeGenerationResult(
        string? requestId, IReadOnlyList<string> imageUrls, string? finishReason, DashScopeTaskMetrics? metrics, DashScopeImageUsage? usage)
    {
        RequestId = requestId;
        ImageUrls = imageUrls;
        FinishReason = finishReason;
        Metrics = metrics;
        Usage = usage;
    }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }

    /// <summary>Every <c>output.choices[*].message.content[*].image</c>, in order (one for qwen-image).</summary>
    public IReadOnlyList<string> ImageUrls { get; }

    /// <summary><c>output.choices[0].finish_reason</c> (<c>stop</c>).</summary>
    public string? FinishReason { get; }

    /// <summary><c>output.task_metric</c>.</summary>
    public DashScopeTaskMetrics? Metrics { get; }

    /// <summary><c>usage</c> (<c>image_count</c>, <c>width</c>, <c>height</c>).</summary>
    public DashScopeImageUsage? Usage { get; }
}
