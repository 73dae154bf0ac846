using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.DashScope.Emulator;

/// <summary>The DashScope routes, <c>GET /emulator/stats</c> and the signed result images.</summary>
internal static class EmulatorEndpoints
{
    private const string JsonContentType = "application/json";
    private const string TasksContentType = "application/json;charset=UTF-8";
    private const string ResultsPrefix = "/results";

    /// <summary>The temporary storage's upload host path (the real one is the bucket's own host).</summary>
    private const string UploadPath = "/oss/" + UploadStore.Bucket;

    /// <summary>The submit header that lets <c>oss://</c> inputs be read from the temporary storage.</summary>
    private const string OssResolveHeader = "X-DashScope-OssResourceResolve";

    private static readonly JsonSerializerOptions Json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // DashScope sends prompts as raw UTF-8
    };

    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("");
        group.MapPost("/api/v1/services/aigc/text2image/image-synthesis", ctx => SubmitAsync(ctx, SubmitRoute.Text2Image));
        group.MapPost("/api/v1/services/aigc/image2image/image-synthesis", ctx => SubmitAsync(ctx, SubmitRoute.Image2Image));
        group.MapPost("/api/v1/services/aigc/multimodal-generation/generation", ctx => SubmitAsync(ctx, SubmitRoute.Multimodal));
        group.MapGet("/api/v1/tasks/{taskId}", GetTaskAsync);
        group.MapPost("/api/v1/tasks/{taskId}/cancel", CancelAsync);
        group.MapGet("/api/v1/tasks", ListAsync);
        group.MapGet("/api/v1/uploads", GetPolicyAsync);
        group.MapPost(UploadPath, UploadAsync).DisableAntiforgery();
        group.MapGet("/emulator/stats", StatsAsync);
        group.MapGet(ResultsPrefix + "/{taskId}/{file}", ImageAsync);
        group.Map("/api/v1/{**rest}", NotFoundAsync); // lowest precedence: any other DashScope path or method
        return group;
    }

    private static Task NotFoundAsync(HttpContext ctx) =>
        WriteErrorAsync(ctx, new DashScopeError(404, "NotFound", "Not Found!"), NewRequestId(), JsonContentType);

    private static EmulatorContext Context(HttpContext ctx) => ctx.RequestServices.GetRequiredService<EmulatorContext>();

    private static string NewRequestId() => Guid.NewGuid().ToString();

    private static async Task SubmitAsync(HttpContext ctx, SubmitRoute route)
    {
        var emu = Context(ctx);
        var requestId = NewRequestId();
        await DelayAsync(emu, ctx);
        try
        {
            var apiKey = Authorize(emu, ctx);
            var isAsync = string.Equals(ctx.Request.Headers["X-DashScope-Async"], "enable", StringComparison.OrdinalIgnoreCase);
            if (route != SubmitRoute.Multimodal && !isAsync)
            {
                throw new DashScopeError(403, "AccessDenied", "current user api does not support synchronous calls");
            }

            if (route == SubmitRoute.Multimodal && isAsync)
            {
                throw new DashScopeError(403, "AccessDenied", "current user api does not support asynchronous calls");
            }

            using var body = await ReadBodyAsync(ctx);
            var root = body.RootElement;
            var modelName = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (string.IsNullOrEmpty(modelName))
            {
                throw new DashScopeError(400, "BadRequest.EmptyModel", "Required parameter 'model' missing from request.");
            }

            var rule = ModelRules.Find(modelName) ?? throw new DashScopeError(404, "ModelNotFound", "Model not exist.");
            if (route == SubmitRoute.Multimodal ? !rule.SupportsSync : rule.Route != route)
            {
                // What the service answers for a model on another model family's endpoint.
                throw DashScopeError.InvalidParameter("url error, please check url!");
            }

            emu.Stats.Submitted(rule.Name);
            CheckSubmitLimits(emu, rule);

            if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null
                || (input.ValueKind == JsonValueKind.Object && !input.EnumerateObject().Any()))
            {
                throw new DashScopeError(400, "BadRequest.EmptyInput", "Required input parameter missing from request.");
            }

            if (input.ValueKind != JsonValueKind.Object)
            {
                throw DashScopeError.InvalidParameter("input must be an object.");
            }

            JsonElement? parameters = root.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null ? p : null;
            if (parameters is { ValueKind: not JsonValueKind.Object })
            {
                throw DashScopeError.InvalidParameter("parameters must be an object.");
            }

            var oss = string.Equals(ctx.Request.Headers[OssResolveHeader], "enable", StringComparison.OrdinalIgnoreCase)
                ? new OssInputs(emu.Uploads, emu.Stats, rule.Name, UploadStore.Account(apiKey), emu.Clock.Now, emu.Clock.Scale(emu.Options.UploadTtl))
                : null;
            var plan = route == SubmitRoute.Multimodal
                ? ModelRules.ValidateMultimodal(input, parameters)
                : rule.Validate(input, parameters, oss);

            if (emu.Options.DataInspectionTrigger is { Length: > 0 } trigger
                && plan.Prompt.Contains(trigger, StringComparison.OrdinalIgnoreCase))
            {
                throw new DashScopeError(400, "DataInspectionFailed", "Input data may contain inappropriate content.");
            }

            var task = CreateTask(emu, rule, plan, requestId, isSync: route == SubmitRoute.Multimodal);
            if (route == SubmitRoute.Multimodal)
            {
                await CompleteSyncAsync(emu, ctx, task, requestId);
                return;
            }

            if (!emu.Store.TryAdd(task, emu.MaxConcurrent(rule.Name), emu.Options.RejectOverConcurrency && emu.Options.EnableLimits))
            {
                emu.Stats.Throttled(EmulatorStats.Concurrency);
                throw new DashScopeError(429, "Throttling.RateQuota",
                    $"Too many concurrent tasks for {rule.Name} (limit {emu.MaxConcurrent(rule.Name)}), please try again later.");
            }

            emu.Stats.Accepted(rule.Name);
            task.PrerenderInBackground();
            var output = new JsonObject { ["task_status"] = TaskStatus.Pending, ["task_id"] = task.Id };
            await WriteJsonAsync(ctx, 200, new JsonObject { ["output"] = output, ["request_id"] = requestId }, JsonContentType);
        }
        catch (DashScopeError error)
        {
            // Submit errors list code, message, request_id (seed 003); the tasks API puts request_id first.
            await WriteJsonAsync(ctx, error.Status,
                new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["request_id"] = requestId }, JsonContentType);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (e.g. a sync call timed out on its side); nothing to answer.
        }
    }

    private static void CheckSubmitLimits(EmulatorContext emu, ModelRule rule)
    {
        if (emu.Options.EnableLimits && !emu.Limiter.TryAcquire("submit:" + rule.Name, emu.Scaled(rule.SubmitRps), emu.Clock.Now))
        {
            emu.Stats.Throttled(EmulatorStats.SubmitRps);
            throw new DashScopeError(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
        }

        var throttle = emu.Chance(emu.Options.SubmitThrottleRate);
        var fail = emu.Chance(emu.Options.SubmitErrorRate);
        if (throttle)
        {
            emu.Stats.Throttled(EmulatorStats.Injected);
            throw new DashScopeError(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
        }

        if (fail)
        {
            emu.Stats.InjectedError();
            throw new DashScopeError(500, "InternalError", "An internal error has occured, please try again later or contact service support.");
        }
    }

    private static EmulatorTask CreateTask(EmulatorContext emu, ModelRule rule, TaskPlan plan, string requestId, bool isSync)
    {
        // Draw every random decision up front, always in the same order, so a seed replays a run.
        var baseSeed = plan.Seed ?? (int)(emu.NextDouble() * int.MaxValue);
        var latency = plan.DeferredFailure is null ? rule.Latency(plan, emu.NextDouble) : TimeSpan.FromSeconds(0.1 + (0.2 * emu.NextDouble()));
        var taskFails = emu.Chance(emu.Options.TaskFailureRate);
        var imageFailures = new DashScopeError?[plan.N];
        for (var i = 0; i < plan.N; i++)
        {
            var fails = emu.Chance(emu.Options.ImageFailureRate);
            var inspection = emu.NextDouble() < 0.5;
            if (fails)
            {
                imageFailures[i] = inspection
                    ? new DashScopeError(400, "DataInspectionFailed", "Output data may contain inappropriate content.")
                    : new DashScopeError(500, "InternalError.Timeout", "An internal timeout error has occured during execution, please try again later or contact service support.");
            }
        }

        var failure = taskFails && plan.DeferredFailure is null
            ? new DashScopeError(500, "InternalError.Timeout", "An internal timeout error has occured during execution, please try again later or contact service support.")
            : null;
        return new EmulatorTask(Guid.NewGuid().ToString(), requestId, rule, plan, emu.Clock.Now, emu.Clock.Scale(latency),
            failure, imageFailures, baseSeed, isSync);
    }

    private static async Task CompleteSyncAsync(EmulatorContext emu, HttpContext ctx, EmulatorTask task, string requestId)
    {
        emu.Store.TryAdd(task, int.MaxValue, rejectWhenFull: false);
        task.PrerenderInBackground();
        var wait = task.EndTime!.Value - emu.Clock.Now;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, emu.Clock.Time, ctx.RequestAborted);
        }

        if (task.Failure is { } failure)
        {
            throw failure;
        }

        emu.Stats.SyncCall();
        var output = new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject
            {
                ["finish_reason"] = "stop",
                ["message"] = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = new JsonArray(new JsonObject { ["image"] = ImageUrl(emu, ctx, task, 0) }),
                },
            }),
            ["task_metric"] = new JsonObject { ["TOTAL"] = 1, ["FAILED"] = 0, ["SUCCEEDED"] = 1 },
        };
        var usage = new JsonObject { ["width"] = task.Plan.Width, ["image_count"] = 1, ["height"] = task.Plan.Height };
        await WriteJsonAsync(ctx, 200, new JsonObject { ["output"] = output, ["usage"] = usage, ["request_id"] = requestId }, JsonContentType);
    }

    private static async Task GetTaskAsync(HttpContext ctx, string taskId)
    {
        var emu = Context(ctx);
        var requestId = NewRequestId();
        await DelayAsync(emu, ctx);
        try
        {
            Authorize(emu, ctx);
            CheckQueryLimit(emu);
            emu.Stats.Queried(taskId);
            var now = emu.Clock.Now;
            var task = emu.Store.Get(taskId, now, emu.MaxConcurrent);
            JsonObject body;
            if (task is null || emu.Store.IsExpired(task, now))
            {
                body = new JsonObject
                {
                    ["request_id"] = requestId,
                    ["output"] = new JsonObject { ["task_id"] = taskId, ["task_status"] = TaskStatus.Unknown },
                };
            }
            else
            {
                body = TaskBody(emu, ctx, task, now, requestId);
            }

            await WriteJsonAsync(ctx, 200, body, TasksContentType);
        }
        catch (DashScopeError error)
        {
            await WriteErrorAsync(ctx, error, requestId, TasksContentType);
        }
    }

    private static JsonObject TaskBody(EmulatorContext emu, HttpContext ctx, EmulatorTask task, DateTimeOffset now, string requestId)
    {
        var status = task.StatusAt(now);
        var output = new JsonObject { ["task_id"] = task.Id, ["task_status"] = status, ["submit_time"] = EmulatorClock.Format(task.SubmitTime) };
        var body = new JsonObject { ["request_id"] = requestId, ["output"] = output };
        var total = task.Plan.N;
        switch (status)
        {
            case TaskStatus.Canceled:
                output["end_time"] = EmulatorClock.Format(task.CanceledTime!.Value);
                break;
            case TaskStatus.Running:
                output["scheduled_time"] = EmulatorClock.Format(task.ScheduledTime!.Value);
                AddMetrics(task, output, total, 0, 0);
                break;
            case TaskStatus.Failed:
                output["scheduled_time"] = EmulatorClock.Format(task.ScheduledTime!.Value);
                output["end_time"] = EmulatorClock.Format(task.EndTime!.Value);
                output["code"] = task.Failure!.Code;
                output["message"] = task.Failure.Message;
                AddMetrics(task, output, total, 0, total);
                break;
            case TaskStatus.Succeeded:
                output["scheduled_time"] = EmulatorClock.Format(task.ScheduledTime!.Value);
                output["end_time"] = EmulatorClock.Format(task.EndTime!.Value);
                var results = new JsonArray();
                for (var i = 0; i < total; i++)
                {
                    results.Add(task.ImageFailures[i] is { } failed
                        ? new JsonObject { ["code"] = failed.Code, ["message"] = failed.Message }
                        : ResultEntry(task, ImageUrl(emu, ctx, task, i)));
                }

                output["results"] = results;
                AddMetrics(task, output, total, task.SucceededImages, total - task.SucceededImages);
                body["usage"] = new JsonObject { ["image_count"] = task.SucceededImages };
                break;
            default:
                break;
        }

        return body;
    }

    private static JsonObject ResultEntry(EmulatorTask task, string url)
    {
        if (!task.Model.EchoesPrompt)
        {
            return new JsonObject { ["url"] = url };
        }

        var entry = new JsonObject { ["orig_prompt"] = task.Plan.Prompt };
        if (task.Plan.ActualPrompt is { } actual)
        {
            entry["actual_prompt"] = actual;
        }

        entry["url"] = url;
        return entry;
    }

    private static void AddMetrics(EmulatorTask task, JsonObject output, int total, int succeeded, int failed)
    {
        if (task.Model.HasTaskMetrics)
        {
            output["task_metrics"] = new JsonObject { ["TOTAL"] = total, ["SUCCEEDED"] = succeeded, ["FAILED"] = failed };
        }
    }

    private static async Task CancelAsync(HttpContext ctx, string taskId)
    {
        var emu = Context(ctx);
        var requestId = NewRequestId();
        await DelayAsync(emu, ctx);
        try
        {
            Authorize(emu, ctx);
            var canceled = emu.Store.TryCancel(taskId, emu.Clock.Now, emu.MaxConcurrent);
            emu.Stats.CancelRequested(canceled);
            if (!canceled)
            {
                throw new DashScopeError(400, "UnsupportedOperation",
                    "Failed to cancel the task, please confirm if the task is in PENDING status.");
            }

            await WriteJsonAsync(ctx, 200, new JsonObject { ["request_id"] = requestId }, TasksContentType);
        }
        catch (DashScopeError error)
        {
            await WriteErrorAsync(ctx, error, requestId, TasksContentType);
        }
    }

    private static async Task ListAsync(HttpContext ctx)
    {
        var emu = Context(ctx);
        var requestId = NewRequestId();
        await DelayAsync(emu, ctx);
        try
        {
            Authorize(emu, ctx);
            CheckQueryLimit(emu);
            emu.Stats.Listed();
            var now = emu.Clock.Now;
            var query = ctx.Request.Query;
            var end = ParseListTime(query["end_time"], "end_time") ?? now;
            var start = ParseListTime(query["start_time"], "start_time") ?? end - TimeSpan.FromHours(24);
            if (end < start || end - start > TimeSpan.FromHours(24))
            {
                throw DashScopeError.InvalidParameter("start_time and end_time must span at most 24 hours.");
            }

            var pageNo = ParseListInt(query["page_no"], "page_no", 1, int.MaxValue) ?? 1;
            var pageSize = ParseListInt(query["page_size"], "page_size", 1, 100) ?? 10;
            var taskId = (string?)query["task_id"];
            var model = (string?)query["model_name"];
            var status = (string?)query["status"];
            var matches = emu.Store.List(now, emu.MaxConcurrent)
                .Where(t => t.SubmitTime >= start && t.SubmitTime <= end)
                .Where(t => string.IsNullOrEmpty(taskId) || t.Id == taskId)
                .Where(t => string.IsNullOrEmpty(model) || t.Model.Name == model)
                .Where(t => string.IsNullOrEmpty(status) || string.Equals(t.StatusAt(now), status, StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(t => t.SubmitTime)
                .ToList();

            var data = new JsonArray();
            foreach (var task in matches.Skip((int)Math.Min((long)(pageNo - 1) * pageSize, int.MaxValue)).Take(pageSize))
            {
                var item = new JsonObject
                {
                    ["task_id"] = task.Id,
                    ["status"] = task.StatusAt(now),
                    ["model_name"] = task.Model.Name,
                    ["region"] = "cn-beijing",
                    ["request_id"] = task.RequestId,
                    ["gmt_create"] = task.SubmitTime.ToUnixTimeMilliseconds(),
                };
                if (task.ScheduledTime is { } scheduled && scheduled <= now)
                {
                    item["start_time"] = scheduled.ToUnixTimeMilliseconds();
                }

                if (task.StatusAt(now) is TaskStatus.Succeeded or TaskStatus.Failed)
                {
                    item["end_time"] = task.EndTime!.Value.ToUnixTimeMilliseconds();
                }
                else if (task.CanceledTime is { } canceled)
                {
                    item["end_time"] = canceled.ToUnixTimeMilliseconds();
                }

                data.Add(item);
            }

            var body = new JsonObject
            {
                ["total"] = matches.Count,
                ["data"] = data,
                ["total_page"] = (matches.Count + pageSize - 1) / pageSize,
                ["page_no"] = pageNo,
                ["page_size"] = pageSize,
                ["request_id"] = requestId,
            };
            await WriteJsonAsync(ctx, 200, body, TasksContentType);
        }
        catch (DashScopeError error)
        {
            await WriteErrorAsync(ctx, error, requestId, TasksContentType);
        }
    }

    private static DateTimeOffset? ParseListTime(string? value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        // YYYYMMDDhhmmss in the service's time zone (UTC+8).
        return DateTime.TryParseExact(value, "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            ? new DateTimeOffset(local, TimeSpan.FromHours(8))
            : throw DashScopeError.InvalidParameter($"{name} must be formatted as YYYYMMDDhhmmss.");
    }

    private static int? ParseListInt(string? value, string name, int min, int max)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw DashScopeError.InvalidParameter($"{name} must be an integer between {min} and {max}.");
    }

    /// <summary><c>GET /api/v1/uploads?action=getPolicy&amp;model=…</c>: a signed upload policy for the temporary storage.</summary>
    private static async Task GetPolicyAsync(HttpContext ctx)
    {
        var emu = Context(ctx);
        var requestId = NewRequestId();
        await DelayAsync(emu, ctx);
        try
        {
            var account = UploadStore.Account(Authorize(emu, ctx));
            if (!string.Equals(ctx.Request.Query["action"], "getPolicy", StringComparison.Ordinal))
            {
                throw DashScopeError.InvalidParameter("Parameter 'action' must be 'getPolicy'.");
            }

            var model = (string?)ctx.Request.Query["model"];
            if (string.IsNullOrEmpty(model))
            {
                throw new DashScopeError(400, "BadRequest.EmptyModel", "Required parameter 'model' missing from request.");
            }

            if (emu.Options.EnableLimits && !emu.Limiter.TryAcquire($"policy:{account}:{model}", emu.Scaled(100), emu.Clock.Now))
            {
                emu.Stats.Throttled(EmulatorStats.PolicyQps);
                throw new DashScopeError(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
            }

            var now = emu.Clock.Now;
            var maxBytes = emu.Options.UploadMaxFileSizeMb * 1024L * 1024L;
            var issued = emu.Uploads.Issue(model, account, now, now + emu.Options.UploadPolicyTtl, maxBytes);
            emu.Stats.PolicyIssued();
            var data = new JsonObject
            {
                ["policy"] = issued.Policy,
                ["signature"] = issued.Signature,
                ["upload_dir"] = issued.UploadDirectory,
                ["upload_host"] = $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.PathBase}{UploadPath}",
                ["expire_in_seconds"] = (int)emu.Options.UploadPolicyTtl.TotalSeconds,
                ["max_file_size_mb"] = emu.Options.UploadMaxFileSizeMb,
                ["capacity_limit_mb"] = 999999999,
                ["oss_access_key_id"] = UploadStore.AccessKeyId,
                ["x_oss_object_acl"] = UploadStore.ObjectAcl,
                ["x_oss_forbid_overwrite"] = "true",
            };
            await WriteJsonAsync(ctx, 200, new JsonObject { ["request_id"] = requestId, ["data"] = data }, JsonContentType);
        }
        catch (DashScopeError error)
        {
            await WriteErrorAsync(ctx, error, requestId, JsonContentType);
        }
    }

    /// <summary>The upload host: an OSS-style POST form upload checked against its signed policy.</summary>
    private static async Task UploadAsync(HttpContext ctx)
    {
        var emu = Context(ctx);
        if (!ctx.Request.HasFormContentType)
        {
            await WriteOssErrorAsync(ctx, 400, "RequestIsNotMultiPartContent", "Bucket POST must be of the enclosure-type multipart/form-data.");
            return;
        }

        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        byte[]? bytes = null;
        if (form.Files.GetFile("file") is { } file)
        {
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, ctx.RequestAborted);
            bytes = buffer.ToArray();
        }

        var error = emu.Uploads.Accept(name => form.TryGetValue(name, out var value) ? (string?)value : null, bytes, emu.Clock.Now);
        if (error is not null)
        {
            await WriteOssErrorAsync(ctx, error.Status, error.Code, error.Message);
            return;
        }

        emu.Stats.FileUploaded();
        var status = (string?)form["success_action_status"] is "200" or "201" ? int.Parse(form["success_action_status"]!, CultureInfo.InvariantCulture) : 204;
        ctx.Response.StatusCode = status;
        ctx.Response.Headers["x-oss-request-id"] = Guid.NewGuid().ToString("N");
        if (status == 201)
        {
            var key = System.Security.SecurityElement.Escape((string?)form["key"]);
            var xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>\n  <Bucket>{UploadStore.Bucket}</Bucket>\n  <Key>{key}</Key>\n</PostResponse>\n";
            await WriteBytesAsync(ctx, 201, Encoding.UTF8.GetBytes(xml), "application/xml");
        }
    }

    private static Task StatsAsync(HttpContext ctx)
    {
        var snapshot = Context(ctx).Stats.Snapshot();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(snapshot, Json);
        return WriteBytesAsync(ctx, 200, bytes, JsonContentType);
    }

    private static async Task ImageAsync(HttpContext ctx, string taskId, string file)
    {
        var emu = Context(ctx);
        var path = $"{ctx.Request.PathBase}{ctx.Request.Path}";
        var now = emu.Clock.Now;
        var error = emu.Signer.Check(path, ctx.Request.Query["Expires"], ctx.Request.Query["Signature"], now);
        if (error is not null)
        {
            var message = error == "SignatureDoesNotMatch"
                ? "The request signature we calculated does not match the signature you provided."
                : "Request has expired.";
            await WriteOssErrorAsync(ctx, 403, error, message);
            return;
        }

        var index = file.EndsWith(".png", StringComparison.Ordinal)
            && int.TryParse(file.AsSpan(0, file.Length - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1;
        var task = emu.Store.Get(taskId, now, emu.MaxConcurrent, includeSync: true);
        if (task?.EndTime is { } end && now > end + emu.Clock.Scale(emu.Options.EffectiveUrlTtl))
        {
            // Expires carries the end of the URL's life rounded down to the second; the emulator holds it to the tick, so a
            // sub-second ResultUrlTtl is expired for any download that is not instant.
            await WriteOssErrorAsync(ctx, 403, "AccessDenied", "Request has expired.");
            return;
        }

        var png = task is null || emu.Store.IsExpired(task, now) ? null : task.Image(index);
        if (png is null)
        {
            await WriteOssErrorAsync(ctx, 404, "NoSuchKey", "The specified key does not exist.");
            return;
        }

        emu.Stats.ImageServed();
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "image/png";
        ctx.Response.ContentLength = png.Length;
        await ctx.Response.Body.WriteAsync(png, ctx.RequestAborted);
    }

    private static string ImageUrl(EmulatorContext emu, HttpContext ctx, EmulatorTask task, int index)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"{ctx.Request.PathBase}{ResultsPrefix}/{task.Id}/{index}.png");
        var expires = task.EndTime!.Value + emu.Clock.Scale(emu.Options.EffectiveUrlTtl);
        return $"{ctx.Request.Scheme}://{ctx.Request.Host}{path}?{emu.Signer.Sign(path, expires)}";
    }

    /// <summary>Checks the API key; returns it.</summary>
    private static string Authorize(EmulatorContext emu, HttpContext ctx)
    {
        var header = (string?)ctx.Request.Headers.Authorization;
        var key = header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            throw new DashScopeError(401, "InvalidApiKey", "No API-key provided.");
        }

        if (!string.IsNullOrEmpty(emu.Options.ApiKey) && !string.Equals(key, emu.Options.ApiKey, StringComparison.Ordinal))
        {
            throw new DashScopeError(401, "InvalidApiKey", "Invalid API-key provided.");
        }

        return key;
    }

    private static void CheckQueryLimit(EmulatorContext emu)
    {
        if (emu.Options.EnableLimits && !emu.Limiter.TryAcquire("query", emu.Scaled(20), emu.Clock.Now))
        {
            emu.Stats.Throttled(EmulatorStats.QueryQps);
            throw new DashScopeError(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
        }
    }

    private static async Task<JsonDocument> ReadBodyAsync(HttpContext ctx)
    {
        try
        {
            var document = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw DashScopeError.InvalidParameter("The request body must be a JSON object.");
            }

            return document;
        }
        catch (JsonException)
        {
            throw DashScopeError.InvalidParameter("The request body is not valid JSON.");
        }
    }

    private static Task DelayAsync(EmulatorContext emu, HttpContext ctx) =>
        emu.Options.ResponseDelay > TimeSpan.Zero ? Task.Delay(emu.Options.ResponseDelay, ctx.RequestAborted) : Task.CompletedTask;

    private static Task WriteErrorAsync(HttpContext ctx, DashScopeError error, string requestId, string contentType) =>
        WriteJsonAsync(ctx, error.Status,
            new JsonObject { ["request_id"] = requestId, ["code"] = error.Code, ["message"] = error.Message }, contentType);

    private static Task WriteJsonAsync(HttpContext ctx, int status, JsonObject body, string contentType) =>
        WriteBytesAsync(ctx, status, JsonSerializer.SerializeToUtf8Bytes(body, Json), contentType);

    private static Task WriteOssErrorAsync(HttpContext ctx, int status, string code, string message)
    {
        var xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{System.Security.SecurityElement.Escape(message)}</Message>\n" +
            $"  <RequestId>{Guid.NewGuid():N}</RequestId>\n  <HostId>dashscope-result-emulator</HostId>\n</Error>\n";
        return WriteBytesAsync(ctx, status, Encoding.UTF8.GetBytes(xml), "application/xml");
    }

    /// <summary>Writes a body, gzip-compressed when the client accepts gzip (as the real service does).</summary>
    private static async Task WriteBytesAsync(HttpContext ctx, int status, byte[] bytes, string contentType)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        var acceptsGzip = ctx.Request.Headers.AcceptEncoding.Any(v => v is not null && v.Contains("gzip", StringComparison.OrdinalIgnoreCase));
        if (acceptsGzip)
        {
            using var compressed = new MemoryStream();
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(bytes);
            }

            bytes = compressed.ToArray();
            ctx.Response.Headers.ContentEncoding = "gzip";
            ctx.Response.Headers.Vary = "Accept-Encoding";
        }

        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }
}
