using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImageJobs.DashScope;

namespace ImageJobs.Workflow.Jobs;

/// <summary>
/// Turns the public job JSON into an <see cref="ImageJob"/>, or into every <see cref="FieldError"/> it has:
/// the job's own rules here, DashScope's per-model rules from <see cref="DashScopeRequestValidator"/>.
/// <code>
/// { "jobId": "cat-1", "model": "wanx-v1", "input": { "prompt": "a cat" }, "parameters": { "n": 1 },
///   "output": { "container": "results", "prefix": "team-a/" },
///   "notify": { "webhookUrl": "https://…", "queue": "my-done", "instanceId": "…", "eventName": "ImageJobCompleted" },
///   "timeout": "00:30:00" }
/// </code>
/// </summary>
public static partial class ImageJobParser
{
    /// <summary>The timeout when a job names none: 30 minutes.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The shortest timeout: no model's task can finish, be seen finished by a status query and be copied out in less
    /// (DashScope's fastest documented task takes 5 seconds). A shorter one could only pay for a task and time out.
    /// </summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The longest timeout: DashScope keeps tasks for 24 hours.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(23);

    /// <summary>The container results go to when a job names none.</summary>
    public const string DefaultContainer = "results";

    /// <summary>The external event name when a job names an instance but no event.</summary>
    public const string DefaultEventName = "ImageJobCompleted";

    /// <summary>The prefix of image references into the app's own storage: <c>blob:{container}/{name}</c>.</summary>
    public const string BlobScheme = "blob:";

    /// <summary>
    /// How job JSON is read at every edge (HTTP, queue, upload metadata): a property named twice is a syntax error, so
    /// it is refused as invalid JSON instead of failing later, when the object is enumerated.
    /// </summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// Reads JSON the way every edge (HTTP jobs and events, queue messages, upload metadata, <c>generate --param</c>)
    /// must: with <see cref="DocumentOptions"/>, and with every string and property name checked to be valid Unicode
    /// (no lone surrogate escapes such as <c>"\ud800"</c>, no invalid UTF-8 bytes), so a bad body is one named
    /// <see cref="FieldError"/> here instead of an exception wherever the value is read later.
    /// </summary>
    /// <param name="utf8">The JSON text as UTF-8.</param>
    /// <param name="what">What the text is, for the message (<c>The body</c>, <c>The message</c>).</param>
    /// <param name="node">The parsed JSON (<see langword="null"/> for the JSON literal <c>null</c> or on error).</param>
    /// <returns><see langword="null"/> when the JSON is usable, else the problem, naming the field that holds it.</returns>
    public static FieldError? TryParseJson(ReadOnlyMemory<byte> utf8, string what, out JsonNode? node)
    {
        node = null;
        try
        {
            using var document = JsonDocument.Parse(utf8, DocumentOptions);
            if (FindInvalidText(document.RootElement, "$") is { } invalid)
            {
                return invalid;
            }

            node = JsonNode.Parse(utf8.Span, documentOptions: DocumentOptions);
            return null;
        }
        catch (JsonException ex)
        {
            return new FieldError("$", $"{what} is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException)
        {
            // The duplicate-property check reads every name and stops at one that is not valid Unicode: find where.
            using var document = JsonDocument.Parse(utf8);
            return FindInvalidText(document.RootElement, "$") ?? InvalidText("$", "text that is not valid Unicode");
        }
    }

    /// <summary><see cref="TryParseJson(ReadOnlyMemory{byte}, string, out JsonNode?)"/> for JSON held in a string.</summary>
    public static FieldError? TryParseJson(string text, string what, out JsonNode? node)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseJson(System.Text.Encoding.UTF8.GetBytes(text), what, out node);
    }

    // The first string or property name that is not valid Unicode, named by its JSON path ("input.prompt",
    // "input.images[0]"; a bad property name is named by the object that holds it, "$" at the top).
    private static FieldError? FindInvalidText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsValidString(element) ? null : InvalidText(path, "a string that is not valid Unicode (a lone surrogate escape or invalid UTF-8)");
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidText(item, FormattableString.Invariant($"{path}[{index++}]")) is { } error)
                    {
                        return error;
                    }
                }

                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    // A name is unescaped without complaint, lone surrogates and all, so it is checked here.
                    string? name = null;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                    }

                    if (name is null || !IsWellFormed(name))
                    {
                        return InvalidText(path, "a property name that is not valid Unicode (a lone surrogate escape or invalid UTF-8)");
                    }

                    if (FindInvalidText(property.Value, path == "$" ? name : $"{path}.{name}") is { } error)
                    {
                        return error;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static bool IsValidString(JsonElement element)
    {
        try
        {
            return IsWellFormed(element.GetString()!);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // No lone surrogate: every high surrogate followed by a low one, no low one alone.
    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static FieldError InvalidText(string path, string what) => new(path, $"{(path == "$" ? "The JSON" : path)} holds {what}.");

    // DashScope's integer parameters (every model's n and seed, wanx2.1-imageedit's upscale_factor).
    private static readonly string[] s_integerParameters = ["n", "seed", "upscale_factor"];

    private static readonly string[] s_topLevel = ["jobId", "model", "input", "parameters", "output", "notify", "timeout"];

    /// <summary>Parses and validates a job.</summary>
    /// <param name="body">The JSON body.</param>
    /// <param name="defaultJobId">The id to use when the body has no <c>jobId</c> (a new GUID at the HTTP edge, the message id for queues).</param>
    /// <param name="job">The job when valid.</param>
    /// <returns>Every problem; empty when <paramref name="job"/> is set.</returns>
    public static IReadOnlyList<FieldError> TryParse(JsonNode? body, string defaultJobId, out ImageJob? job)
    {
        job = null;
        var errors = new List<FieldError>();
        if (body is not JsonObject root)
        {
            errors.Add(new("$", "The job must be a JSON object with at least model and input."));
            return errors;
        }

        foreach (var (key, _) in root)
        {
            if (Array.IndexOf(s_topLevel, key) < 0)
            {
                errors.Add(new(key, $"{key} is not a job field; allowed: {string.Join(", ", s_topLevel)}."));
            }
        }

        var jobId = OptionalString(root, "jobId", errors);
        if (jobId is not null && !JobIdPattern().IsMatch(jobId))
        {
            errors.Add(new("jobId", "jobId must be 1–64 characters of A–Z, a–z, 0–9, '_' or '-'."));
        }

        var model = OptionalString(root, "model", errors);
        var input = root["input"] as JsonObject;
        if (root["input"] is not null and not JsonObject)
        {
            errors.Add(new("input", "input must be a JSON object (DashScope's input)."));
        }

        var parameters = root["parameters"] as JsonObject;
        if (root["parameters"] is not null and not JsonObject)
        {
            errors.Add(new("parameters", "parameters must be a JSON object (DashScope's parameters)."));
        }

        // Image references into the app's storage are resolved later; DashScope's rules see a stand-in URL.
        var providerInput = input?.DeepClone().AsObject();
        if (providerInput is not null)
        {
            foreach (var (path, node) in ImageFields(providerInput))
            {
                if (node.GetValueKind() == JsonValueKind.String && node.GetValue<string>().StartsWith(BlobScheme, StringComparison.Ordinal))
                {
                    if (ParseBlobReference(node.GetValue<string>()) is null)
                    {
                        errors.Add(new(path, $"{path} must be blob:{{container}}/{{name}} with a valid container name (3–63 lower-case letters, digits, '-')."));
                    }

                    node.ReplaceWith(JsonValue.Create("https://blob.invalid/reference.png"));
                }
            }
        }

        if (root["input"] is null or JsonObject && root["parameters"] is null or JsonObject)
        {
            foreach (var error in DashScopeRequestValidator.Validate(model, providerInput, parameters))
            {
                errors.Add(new(error.Field, error.Message));
            }
        }

        CheckBeforePaying(input, parameters, errors);
        var output = ParseOutput(root["output"], errors);
        var notify = ParseNotify(root["notify"], errors);
        var timeout = ParseTimeout(root["timeout"], errors);

        if (errors.Count == 0)
        {
            job = new ImageJob
            {
                JobId = jobId ?? defaultJobId,
                Model = model!,
                Input = input!.DeepClone().AsObject(),
                Parameters = parameters?.DeepClone().AsObject() ?? [],
                Output = output!,
                Notify = notify,
                Timeout = timeout,
            };
        }

        return errors;
    }

    /// <summary>Splits <c>blob:{container}/{name}</c>, or returns <see langword="null"/> when malformed.</summary>
    public static (string Container, string Name)? ParseBlobReference(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.StartsWith(BlobScheme, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = value[BlobScheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return null;
        }

        var container = rest[..slash];
        var name = rest[(slash + 1)..];
        return StorageNamePattern().IsMatch(container) && name.Length <= 1024 ? (container, name) : null;
    }

    /// <summary>The image-valued fields of a DashScope input, with their JSON paths (the fields
    /// <see cref="DashScopeModelCatalog"/> lists).</summary>
    public static IEnumerable<(string Path, JsonValue Node)> ImageFields(JsonObject input) =>
        DashScopeModelCatalog.ImageValues(input);

    // What DashScope would refuse only after the task is paid for, or what would pay for nothing: a prompt of
    // nothing but control characters ("\u0000"), integer parameters written as 1.0, 1e0 or -0.0.
    private static void CheckBeforePaying(JsonObject? input, JsonObject? parameters, List<FieldError> errors)
    {
        if (input?["prompt"] is JsonValue prompt && prompt.GetValueKind() == JsonValueKind.String && !errors.Exists(e => e.Field == "input.prompt")
            && prompt.GetValue<string>().All(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            errors.Add(new("input.prompt", "input.prompt is required and must not be empty (control characters and white space alone are empty)."));
        }

        foreach (var name in s_integerParameters)
        {
            var field = "parameters." + name;
            if (parameters?[name] is JsonValue number && number.GetValueKind() == JsonValueKind.Number && !errors.Exists(e => e.Field == field)
                && number.ToJsonString().AsSpan().IndexOfAny('.', 'e', 'E') >= 0)
            {
                errors.Add(new(field, $"{field} must be an integer written without a fraction or exponent (DashScope refuses {number.ToJsonString()})."));
            }
        }
    }

    private static JobOutput? ParseOutput(JsonNode? node, List<FieldError> errors)
    {
        if (node is null)
        {
            return new JobOutput(DefaultContainer, string.Empty);
        }

        if (node is not JsonObject output)
        {
            errors.Add(new("output", "output must be an object: {\"container\": \"results\", \"prefix\": \"…\"}."));
            return null;
        }

        Unknown(output, "output", ["container", "prefix"], errors);
        var container = OptionalString(output, "container", errors, "output.") ?? DefaultContainer;
        if (!StorageNamePattern().IsMatch(container))
        {
            errors.Add(new("output.container", "output.container must be a blob container name: 3–63 lower-case letters, digits and single '-', starting and ending with a letter or digit."));
        }

        var prefix = OptionalString(output, "prefix", errors, "output.") ?? string.Empty;
        if (prefix.Length > 512 || prefix.StartsWith('/') || prefix.Contains("..", StringComparison.Ordinal) || prefix.Contains('\\', StringComparison.Ordinal)
            || prefix.Any(char.IsControl))
        {
            errors.Add(new("output.prefix", "output.prefix must be at most 512 characters, not start with '/', and contain no '..', '\\' or control characters."));
        }
        else if (prefix.Length > 0 && !prefix.EndsWith('/'))
        {
            // {prefix}{jobId}/ must name one job only: "team-" + "a" and "" + "team-a" would share team-a/0.png.
            errors.Add(new("output.prefix", "output.prefix must end with '/' (e.g. \"team-a/\"), so that no two jobs' results can share a name."));
        }

        return new JobOutput(container, prefix);
    }

    private static JobNotify ParseNotify(JsonNode? node, List<FieldError> errors)
    {
        if (node is null)
        {
            return new JobNotify();
        }

        if (node is not JsonObject notify)
        {
            errors.Add(new("notify", "notify must be an object: {\"webhookUrl\", \"queue\", \"instanceId\", \"eventName\"}."));
            return new JobNotify();
        }

        Unknown(notify, "notify", ["webhookUrl", "queue", "instanceId", "eventName"], errors);
        var webhook = OptionalString(notify, "webhookUrl", errors, "notify.");
        if (webhook is not null && (!Uri.TryCreate(webhook, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
        {
            errors.Add(new("notify.webhookUrl", "notify.webhookUrl must be an absolute http(s) URL."));
        }

        var queue = OptionalString(notify, "queue", errors, "notify.");
        if (queue is not null && !StorageNamePattern().IsMatch(queue))
        {
            errors.Add(new("notify.queue", "notify.queue must be a queue name: 3–63 lower-case letters, digits and single '-', starting and ending with a letter or digit."));
        }

        var instanceId = OptionalString(notify, "instanceId", errors, "notify.");
        if (instanceId is not null && (instanceId.Length is 0 or > 256 || instanceId.Any(char.IsControl)))
        {
            errors.Add(new("notify.instanceId", "notify.instanceId must be 1–256 characters without control characters."));
        }

        var eventName = OptionalString(notify, "eventName", errors, "notify.");
        if (eventName is not null && instanceId is null)
        {
            errors.Add(new("notify.eventName", "notify.eventName needs notify.instanceId (the orchestration that receives the event)."));
        }
        else if (eventName is not null && (eventName.Length is 0 or > 128 || eventName.Any(char.IsControl)))
        {
            errors.Add(new("notify.eventName", "notify.eventName must be 1–128 characters without control characters."));
        }

        return new JobNotify
        {
            WebhookUrl = webhook,
            Queue = queue,
            InstanceId = instanceId,
            EventName = instanceId is null ? null : eventName ?? DefaultEventName,
        };
    }

    private static TimeSpan ParseTimeout(JsonNode? node, List<FieldError> errors)
    {
        if (node is null)
        {
            return DefaultTimeout;
        }

        TimeSpan? value = null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var seconds) && double.IsFinite(seconds))
        {
            value = seconds is > 0 and < 1e7 ? TimeSpan.FromSeconds(seconds) : null;
        }
        else if (node is JsonValue s && s.GetValueKind() == JsonValueKind.String)
        {
            var text = s.GetValue<string>();
            if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var parsed))
            {
                value = parsed;
            }
            else
            {
                try
                {
                    value = System.Xml.XmlConvert.ToTimeSpan(text);
                }
                catch (Exception ex) when (ex is FormatException or OverflowException)
                {
                    // Not a duration, or one past TimeSpan's range ("P10675199DT3H"): refused below.
                }
            }
        }

        if (value is null || value < MinTimeout || value > MaxTimeout)
        {
            errors.Add(new("timeout", FormattableString.Invariant(
                $"timeout must be a duration from {MinTimeout.TotalSeconds} second (no job can finish sooner) to {MaxTimeout.TotalHours} hours: seconds (1800), \"hh:mm:ss\" (\"00:30:00\") or ISO 8601 (\"PT30M\").")));
            return DefaultTimeout;
        }

        return value.Value;
    }

    private static string? OptionalString(JsonObject obj, string name, List<FieldError> errors, string path = "")
    {
        var node = obj[name];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            return value.GetValue<string>();
        }

        errors.Add(new(path + name, $"{path}{name} must be a string."));
        return null;
    }

    private static void Unknown(JsonObject obj, string path, string[] allowed, List<FieldError> errors)
    {
        foreach (var (key, _) in obj)
        {
            if (Array.IndexOf(allowed, key) < 0)
            {
                errors.Add(new($"{path}.{key}", $"{path}.{key} is not allowed; allowed: {string.Join(", ", allowed)}."));
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex JobIdPattern();

    // Blob containers and queues share one naming rule.
    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex StorageNamePattern();
}
