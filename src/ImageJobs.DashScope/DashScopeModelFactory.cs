using System.Globalization;
using System.Text.Json;

namespace ImageJobs.DashScope;

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
