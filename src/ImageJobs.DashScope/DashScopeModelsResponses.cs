using System.Globalization;
using System.Text.Json;

namespace ImageJobs.DashScope;

/// <summary>The answer to a submit: the task id to poll.</summary>
public sealed class DashScopeTaskSubmission
{
    internal DashScopeTaskSubmission(string taskId, DashScopeTaskStatus status, string? requestId)
    {
        TaskId = taskId;
        Status = status;
        RequestId = requestId;
    }

    /// <summary><c>output.task_id</c>: poll it with <see cref="DashScopeClient.GetTaskAsync"/> (valid 24 hours).</summary>
    public string TaskId { get; }

    /// <summary><c>output.task_status</c>, normally PENDING.</summary>
    public DashScopeTaskStatus Status { get; }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }
}

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

/// <summary><c>task_metrics</c> (async tasks) or <c>task_metric</c> (sync call): image counts.</summary>
public sealed class DashScopeTaskMetrics
{
    internal DashScopeTaskMetrics(int total, int succeeded, int failed)
    {
        Total = total;
        Succeeded = succeeded;
        Failed = failed;
    }

    /// <summary><c>TOTAL</c>.</summary>
    public int Total { get; }

    /// <summary><c>SUCCEEDED</c>.</summary>
    public int Succeeded { get; }

    /// <summary><c>FAILED</c>.</summary>
    public int Failed { get; }
}

/// <summary><c>usage</c>: counts only successful images.</summary>
public sealed class DashScopeImageUsage
{
    internal DashScopeImageUsage(int? imageCount, int? width, int? height)
    {
        ImageCount = imageCount;
        Width = width;
        Height = height;
    }

    /// <summary><c>image_count</c>: billed images.</summary>
    public int? ImageCount { get; }

    /// <summary><c>width</c> (sync qwen-image call).</summary>
    public int? Width { get; }

    /// <summary><c>height</c> (sync qwen-image call).</summary>
    public int? Height { get; }
}

/// <summary>The state of an asynchronous task (<c>GET /tasks/{task_id}</c>).</summary>
public sealed class DashScopeTask
{
    internal DashScopeTask(
        string taskId,
        DashScopeTaskStatus status,
        string? requestId,
        DateTimeOffset? submitTime,
        DateTimeOffset? scheduledTime,
        DateTimeOffset? endTime,
        IReadOnlyList<DashScopeImageResult> results,
        DashScopeTaskMetrics? metrics,
        DashScopeImageUsage? usage,
        string? code,
        string? message)
    {
        TaskId = taskId;
        Status = status;
        RequestId = requestId;
        SubmitTime = submitTime;
        ScheduledTime = scheduledTime;
        EndTime = endTime;
        Results = results;
        Metrics = metrics;
        Usage = usage;
        Code = code;
        Message = message;
    }

    /// <summary><c>output.task_id</c>.</summary>
    public string TaskId { get; }

    /// <summary><c>output.task_status</c>; unknown values are kept as they are.</summary>
    public DashScopeTaskStatus Status { get; }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }

    /// <summary><c>output.submit_time</c> (sent in UTC+8; carried here with its +08:00 offset).</summary>
    public DateTimeOffset? SubmitTime { get; }

    /// <summary><c>output.scheduled_time</c> (UTC+8).</summary>
    public DateTimeOffset? ScheduledTime { get; }

    /// <summary><c>output.end_time</c> (UTC+8).</summary>
    public DateTimeOffset? EndTime { get; }

    /// <summary><c>output.results</c> in service order: successes and per-image failures side by side.</summary>
    public IReadOnlyList<DashScopeImageResult> Results { get; }

    /// <summary>The URLs of the successful images, in order.</summary>
    public IReadOnlyList<string> ImageUrls => [.. Results.Where(r => r.IsSuccess).Select(r => r.Url!)];

    /// <summary><c>output.task_metrics</c>, when sent (qwen-image omits it).</summary>
    public DashScopeTaskMetrics? Metrics { get; }

    /// <summary><c>usage</c>, when sent.</summary>
    public DashScopeImageUsage? Usage { get; }

    /// <summary><c>output.code</c>: why a FAILED task failed.</summary>
    public string? Code { get; }

    /// <summary><c>output.message</c>: why a FAILED task failed.</summary>
    public string? Message { get; }
}

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

/// <summary>The answer to a cancel.</summary>
public sealed class DashScopeCancelResult
{
    internal DashScopeCancelResult(string? requestId) => RequestId = requestId;

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }
}

/// <summary>Query of <c>GET /tasks</c> (window at most 24 hours; default the last 24 hours).</summary>
public sealed class DashScopeTaskListQuery
{
    /// <summary><c>task_id</c>.</summary>
    public string? TaskId { get; set; }

    /// <summary><c>start_time</c>, sent as <c>YYYYMMDDhhmmss</c> in UTC+8.</summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary><c>end_time</c>, sent as <c>YYYYMMDDhhmmss</c> in UTC+8.</summary>
    public DateTimeOffset? EndTime { get; set; }

    /// <summary><c>model_name</c>.</summary>
    public string? ModelName { get; set; }

    /// <summary><c>status</c>.</summary>
    public DashScopeTaskStatus? Status { get; set; }

    /// <summary><c>page_no</c> (from 1).</summary>
    public int? PageNo { get; set; }

    /// <summary><c>page_size</c>.</summary>
    public int? PageSize { get; set; }
}

/// <summary>One row of <c>GET /tasks</c>.</summary>
public sealed class DashScopeTaskSummary
{
    internal DashScopeTaskSummary(
        string? taskId, DashScopeTaskStatus status, string? modelName, string? region, string? requestId,
        DateTimeOffset? createdTime, DateTimeOffset? startTime, DateTimeOffset? endTime)
    {
        TaskId = taskId;
        Status = status;
        ModelName = modelName;
        Region = region;
        RequestId = requestId;
        CreatedTime = createdTime;
        StartTime = startTime;
        EndTime = endTime;
    }

    /// <summary><c>task_id</c>.</summary>
    public string? TaskId { get; }

    /// <summary><c>status</c>.</summary>
    public DashScopeTaskStatus Status { get; }

    /// <summary><c>model_name</c>.</summary>
    public string? ModelName { get; }

    /// <summary><c>region</c>.</summary>
    public string? Region { get; }

    /// <summary><c>request_id</c> of the submit.</summary>
    public string? RequestId { get; }

    /// <summary><c>gmt_create</c> (epoch milliseconds on the wire; UTC here).</summary>
    public DateTimeOffset? CreatedTime { get; }

    /// <summary><c>start_time</c> (epoch milliseconds on the wire; UTC here).</summary>
    public DateTimeOffset? StartTime { get; }

    /// <summary><c>end_time</c> (epoch milliseconds on the wire; UTC here).</summary>
    public DateTimeOffset? EndTime { get; }
}

/// <summary>A page of <c>GET /tasks</c>.</summary>
public sealed class DashScopeTaskList
{
    internal DashScopeTaskList(int total, int? totalPage, int? pageNo, int? pageSize, string? requestId, IReadOnlyList<DashScopeTaskSummary> tasks)
    {
        Total = total;
        TotalPage = totalPage;
        PageNo = pageNo;
        PageSize = pageSize;
        RequestId = requestId;
        Tasks = tasks;
    }

    /// <summary><c>total</c>.</summary>
    public int Total { get; }

    /// <summary><c>total_page</c>.</summary>
    public int? TotalPage { get; }

    /// <summary><c>page_no</c>.</summary>
    public int? PageNo { get; }

    /// <summary><c>page_size</c>.</summary>
    public int? PageSize { get; }

    /// <summary><c>request_id</c>.</summary>
    public string? RequestId { get; }

    /// <summary><c>data</c>.</summary>
    public IReadOnlyList<DashScopeTaskSummary> Tasks { get; }
}

/// <summary>Builds response models for tests and fakes of <see cref="DashScopeClient"/> (the models have no public
/// constructors).</summary>
public static class DashScopeModelFactory
{
    /// <summary>Builds a <see cref="DashScopeTaskSubmission"/>.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="status">The status (PENDING when null).</param>
    /// <param name="requestId">The request id.</param>
    /// <returns>The model.</returns>
    public static DashScopeTaskSubmission TaskSubmission(string taskId, DashScopeTaskStatus? status = null, string? requestId = null) =>
        new(taskId, status ?? DashScopeTaskStatus.Pending, requestId);

    /// <summary>Builds a <see cref="DashScopeImageResult"/>.</summary>
    /// <param name="url">The image URL (null for a failed image).</param>
    /// <param name="originalPrompt">orig_prompt.</param>
    /// <param name="actualPrompt">actual_prompt.</param>
    /// <param name="code">The per-image error code.</param>
    /// <param name="message">The per-image error message.</param>
    /// <returns>The model.</returns>
    public static DashScopeImageResult ImageResult(
        string? url = null, string? originalPrompt = null, string? actualPrompt = null, string? code = null, string? message = null) =>
        new(url, originalPrompt, actualPrompt, code, message);

    /// <summary>Builds a <see cref="DashScopeTask"/>.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="status">The status.</param>
    /// <param name="results">The results.</param>
    /// <param name="code">The failure code.</param>
    /// <param name="message">The failure message.</param>
    /// <param name="requestId">The request id.</param>
    /// <param name="submitTime">submit_time.</param>
    /// <param name="scheduledTime">scheduled_time.</param>
    /// <param name="endTime">end_time.</param>
    /// <param name="metrics">task_metrics as (total, succeeded, failed).</param>
    /// <param name="imageCount">usage.image_count.</param>
    /// <returns>The model.</returns>
    public static DashScopeTask Task(
        string taskId,
        DashScopeTaskStatus status,
        IEnumerable<DashScopeImageResult>? results = null,
        string? code = null,
        string? message = null,
        string? requestId = null,
        DateTimeOffset? submitTime = null,
        DateTimeOffset? scheduledTime = null,
        DateTimeOffset? endTime = null,
        (int Total, int Succeeded, int Failed)? metrics = null,
        int? imageCount = null) =>
        new(taskId, status, requestId, submitTime, scheduledTime, endTime, [.. results ?? []],
            metrics is { } m ? new DashScopeTaskMetrics(m.Total, m.Succeeded, m.Failed) : null,
            imageCount is null ? null : new DashScopeImageUsage(imageCount, null, null), code, message);
}

/// <summary>Tolerant reading of DashScope's JSON: unknown fields are ignored and odd types read as null.</summary>
internal static class DashScopeResponseParser
{
    private static readonly TimeSpan s_chinaOffset = TimeSpan.FromHours(8);
    private static readonly string[] s_timeFormats = ["yyyy-MM-dd HH:mm:ss.FFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFF"];

    public static DashScopeTaskSubmission ParseSubmission(JsonElement root)
    {
        var output = Obj(root, "output");
        return new DashScopeTaskSubmission(
            Str(output, "task_id") ?? string.Empty,
            new DashScopeTaskStatus(Str(output, "task_status") ?? string.Empty),
            Str(root, "request_id"));
    }

    public static DashScopeTask ParseTask(JsonElement root)
    {
        var output = Obj(root, "output");
        var results = new List<DashScopeImageResult>();
        if (output is { } o && o.TryGetProperty("results", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object)
                {
                    results.Add(new DashScopeImageResult(
                        Str(item, "url"), Str(item, "orig_prompt"), Str(item, "actual_prompt"), Str(item, "code"), Str(item, "message")));
                }
            }
        }

        return new DashScopeTask(
            Str(output, "task_id") ?? string.Empty,
            new DashScopeTaskStatus(Str(output, "task_status") ?? string.Empty),
            Str(root, "request_id"),
            ChinaTime(Str(output, "submit_time")),
            ChinaTime(Str(output, "scheduled_time")),
            ChinaTime(Str(output, "end_time")),
            results,
            Metrics(Obj(output, "task_metrics")),
            Usage(Obj(root, "usage")),
            Str(output, "code"),
            Str(output, "message"));
    }

    public static DashScopeGenerationResult ParseGeneration(JsonElement root)
    {
        var output = Obj(root, "output");
        var urls = new List<string>();
        string? finishReason = null;
        if (output is { } o && o.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                finishReason ??= Str(choice, "finish_reason");
                var message = Obj(choice, "message");
                if (message is { } m && m.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
                {
                    foreach (var part in content.EnumerateArray())
                    {
                        if (Str(part, "image") is { Length: > 0 } url)
                        {
                            urls.Add(url);
                        }
                    }
                }
            }
        }

        return new DashScopeGenerationResult(
            Str(root, "request_id"), urls, finishReason,
            Metrics(Obj(output, "task_metric") ?? Obj(output, "task_metrics")), Usage(Obj(root, "usage")));
    }

    public static DashScopeTaskList ParseList(JsonElement root)
    {
        var tasks = new List<DashScopeTaskSummary>();
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
        {
            foreach (var row in data.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                tasks.Add(new DashScopeTaskSummary(
                    Str(row, "task_id"),
                    new DashScopeTaskStatus(Str(row, "status") ?? Str(row, "task_status") ?? string.Empty),
                    Str(row, "model_name"),
                    Str(row, "region"),
                    Str(row, "request_id"),
                    EpochMillis(row, "gmt_create"),
                    EpochMillis(row, "start_time"),
                    EpochMillis(row, "end_time")));
            }
        }

        return new DashScopeTaskList(
            Int(root, "total") ?? tasks.Count, Int(root, "total_page"), Int(root, "page_no"), Int(root, "page_size"),
            Str(root, "request_id"), tasks);
    }

    public static DateTimeOffset? ChinaTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return DateTime.TryParseExact(text.Trim(), s_timeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            ? new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), s_chinaOffset)
            : null;
    }

    public static string? Str(JsonElement? element, string name)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e || !e.TryGetProperty(name, out var p))
        {
            return null;
        }

        return p.ValueKind switch
        {
            JsonValueKind.String => p.GetString(),
            JsonValueKind.Number => p.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    public static JsonElement? Obj(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Object
            ? p
            : null;

    public static long? Long(JsonElement? element, string name) =>
        long.TryParse(Str(element, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static int? Int(JsonElement? element, string name) =>
        int.TryParse(Str(element, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static DateTimeOffset? EpochMillis(JsonElement element, string name)
    {
        if (Long(element, name) is { } millis)
        {
            return millis is >= -62135596800000 and <= 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(millis) : null;
        }

        return ChinaTime(Str(element, name));
    }

    private static DashScopeTaskMetrics? Metrics(JsonElement? element) =>
        element is null
            ? null
            : new DashScopeTaskMetrics(
                Int(element, "TOTAL") ?? Int(element, "total") ?? 0,
                Int(element, "SUCCEEDED") ?? Int(element, "succeeded") ?? 0,
                Int(element, "FAILED") ?? Int(element, "failed") ?? 0);

    private static DashScopeImageUsage? Usage(JsonElement? element) =>
        element is null ? null : new DashScopeImageUsage(Int(element, "image_count"), Int(element, "width"), Int(element, "height"));
}
