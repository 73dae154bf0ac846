using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ImageJobs.DashScope.Emulator;

/// <summary>The three DashScope endpoints that create work.</summary>
internal enum SubmitRoute
{
    Text2Image,
    Image2Image,
    Multimodal,
}

/// <summary>What a valid request asks for, after defaults; <see cref="DeferredFailure"/> is a validation error the service
/// reports as a FAILED task instead of at submit (wanx-v1 size).</summary>
internal sealed record TaskPlan(
    string Prompt,
    string? ActualPrompt,
    int N,
    int Width,
    int Height,
    int? Seed,
    bool PromptExtend,
    DashScopeError? DeferredFailure);

/// <summary>One model's route, limits, latency and request validation (spec §3).</summary>
internal sealed record ModelRule(
    string Name,
    SubmitRoute Route,
    int SubmitRps,
    int MaxConcurrent,
    double MinLatencySeconds,
    double MaxLatencySeconds,
    bool HasTaskMetrics,
    bool EchoesPrompt,
    bool SupportsSync)
{
    /// <summary>Validates <c>input</c> and <c>parameters</c>; throws <see cref="DashScopeError"/> for a 400.
    /// <paramref name="oss"/> resolves <c>oss://</c> inputs; null when the request lacks the resolve header.</summary>
    public TaskPlan Validate(JsonElement input, JsonElement? parameters, OssInputs? oss = null) => Name switch
    {
        ModelRules.WanxV1 => ModelRules.ValidateWanxV1(input, parameters, oss),
        ModelRules.ImageEdit => ModelRules.ValidateImageEdit(input, parameters, oss),
        ModelRules.Wan25 => ModelRules.ValidateWan25(input, parameters, oss),
        _ => ModelRules.ValidateQwenAsync(input, parameters),
    };

    /// <summary>Service-time latency of one task (qwen adds 3–4 s when the prompt is extended).</summary>
    public TimeSpan Latency(TaskPlan plan, Func<double> next)
    {
        var seconds = MinLatencySeconds + ((MaxLatencySeconds - MinLatencySeconds) * next());
        if (SupportsSync && plan.PromptExtend) // the qwen models: prompt rewriting adds 3–4 s
        {
            seconds += 3 + next();
        }

        return TimeSpan.FromSeconds(seconds);
    }
}

/// <summary>The models the emulator knows and their rules.</summary>
internal static partial class ModelRules
{
    public const string WanxV1 = "wanx-v1";
    public const string ImageEdit = "wanx2.1-imageedit";
    public const string Wan25 = "wan2.5-i2i-preview";
    public const string QwenImage = "qwen-image";
    public const string QwenImagePlus = "qwen-image-plus";
    private const int MaxImageBytes = 10 * 1024 * 1024;

    private static readonly string[] WanxStyles =
    [
        "<auto>", "<photography>", "<portrait>", "<3d cartoon>", "<anime>", "<oil painting>", "<watercolor>", "<sketch>",
        "<chinese painting>", "<flat illustration>",
    ];

    private static readonly string[] WanxSizes = ["1024*1024", "720*1280", "768*1152", "1280*720"];
    private static readonly string[] QwenSizes = ["1664*928", "1472*1140", "1328*1328", "1140*1472", "928*1664"];

    private static readonly string[] EditFunctions =
    [
        "stylization_all", "stylization_local", "description_edit", "description_edit_with_mask", "remove_watermark",
        "expand", "super_resolution", "colorization", "doodle", "control_cartoon_feature",
    ];

    private static readonly string[] EditMimes = ["image/jpeg", "image/png", "image/bmp", "image/tiff", "image/webp"];
    private static readonly string[] Wan25Mimes = ["image/jpeg", "image/png", "image/bmp", "image/webp"];

    private static readonly Dictionary<string, ModelRule> Rules = new ModelRule[]
    {
        new(WanxV1, SubmitRoute.Text2Image, SubmitRps: 2, MaxConcurrent: 1, 26, 31, HasTaskMetrics: true, EchoesPrompt: false, SupportsSync: false),
        new(ImageEdit, SubmitRoute.Image2Image, SubmitRps: 2, MaxConcurrent: 2, 5, 15, HasTaskMetrics: true, EchoesPrompt: false, SupportsSync: false),
        new(Wan25, SubmitRoute.Image2Image, SubmitRps: 5, MaxConcurrent: 5, 30, 120, HasTaskMetrics: true, EchoesPrompt: true, SupportsSync: false),
        new(QwenImage, SubmitRoute.Text2Image, SubmitRps: 2, MaxConcurrent: 2, 14, 16, HasTaskMetrics: false, EchoesPrompt: true, SupportsSync: true),
        new(QwenImagePlus, SubmitRoute.Text2Image, SubmitRps: 2, MaxConcurrent: 2, 14, 16, HasTaskMetrics: false, EchoesPrompt: true, SupportsSync: true),
    }.ToDictionary(r => r.Name, StringComparer.Ordinal);

    /// <summary>The rule for a model name (case-sensitive, as the service is), or null.</summary>
    public static ModelRule? Find(string model) => Rules.GetValueOrDefault(model);

    internal static TaskPlan ValidateWanxV1(JsonElement input, JsonElement? parameters, OssInputs? oss)
    {
        var prompt = RequiredPrompt(input, "input.prompt", 800, truncate: true);
        OptionalPrompt(input, "negative_prompt", "input.negative_prompt", 500, truncate: true);
        if (OptionalString(input, "ref_img", "input.ref_img") is { } refImg)
        {
            CheckImage(refImg, "input.ref_img", EditMimes, minSide: 256, maxSide: 4096, oss);
        }

        var style = OptionalString(parameters, "style", "parameters.style") ?? "<auto>";
        if (!WanxStyles.Contains(style, StringComparer.Ordinal))
        {
            throw DashScopeError.InvalidParameter($"parameters.style must be one of {string.Join(", ", WanxStyles)}.");
        }

        var n = OptionalInt(parameters, "n", "parameters.n", 1, 4) ?? 4;
        var seed = OptionalInt(parameters, "seed", "parameters.seed", 0, int.MaxValue);
        OptionalNumber(parameters, "ref_strength", "parameters.ref_strength", 0, 1);
        var refMode = OptionalString(parameters, "ref_mode", "parameters.ref_mode");
        if (refMode is not null and not "repaint" and not "refonly")
        {
            throw DashScopeError.InvalidParameter("parameters.ref_mode must be 'repaint' or 'refonly'.");
        }

        // The real service accepts any size string at submit and fails the task (spec §2).
        var size = OptionalString(parameters, "size", "parameters.size") ?? "1024*1024";
        if (!WanxSizes.Contains(size, StringComparer.Ordinal))
        {
            var failure = DashScopeError.InvalidParameter("The size is not match the allowed size ['1024*1024', '720*1280', '1280*720']");
            return new TaskPlan(prompt, null, n, 1024, 1024, seed, PromptExtend: false, failure);
        }

        var (width, height) = ParseSize(size, "parameters.size");
        return new TaskPlan(prompt, null, n, width, height, seed, PromptExtend: false, null);
    }

    internal static TaskPlan ValidateImageEdit(JsonElement input, JsonElement? parameters, OssInputs? oss)
    {
        var function = OptionalString(input, "function", "input.function")
            ?? throw DashScopeError.InvalidParameter("Field required: input.function");
        if (!EditFunctions.Contains(function, StringComparer.Ordinal))
        {
            throw DashScopeError.InvalidParameter($"input.function '{function}' is not supported; use one of {string.Join(", ", EditFunctions)}.");
        }

        var prompt = RequiredPrompt(input, "input.prompt", 800, truncate: false);
        var baseImage = OptionalString(input, "base_image_url", "input.base_image_url")
            ?? throw DashScopeError.InvalidParameter("Field required: input.base_image_url");
        var baseSize = CheckImage(baseImage, "input.base_image_url", EditMimes, minSide: 512, maxSide: 4096, oss);
        var mask = OptionalString(input, "mask_image_url", "input.mask_image_url");
        if (function == "description_edit_with_mask")
        {
            if (mask is null)
            {
                throw DashScopeError.InvalidParameter("Field required: input.mask_image_url (function description_edit_with_mask).");
            }

            var maskSize = CheckImage(mask, "input.mask_image_url", EditMimes, minSide: 512, maxSide: 4096, oss);
            if (baseSize is { } b && maskSize is { } m && b != m)
            {
                throw DashScopeError.InvalidParameter("input.mask_image_url must have the same resolution as input.base_image_url.");
            }
        }

        var n = OptionalInt(parameters, "n", "parameters.n", 1, 4) ?? 1;
        var seed = OptionalInt(parameters, "seed", "parameters.seed", 0, int.MaxValue);
        OptionalBool(parameters, "watermark", "parameters.watermark");
        OptionalNumber(parameters, "strength", "parameters.strength", 0, 1);
        var top = OptionalNumber(parameters, "top_scale", "parameters.top_scale", 1, 2) ?? 1;
        var bottom = OptionalNumber(parameters, "bottom_scale", "parameters.bottom_scale", 1, 2) ?? 1;
        var left = OptionalNumber(parameters, "left_scale", "parameters.left_scale", 1, 2) ?? 1;
        var right = OptionalNumber(parameters, "right_scale", "parameters.right_scale", 1, 2) ?? 1;
        var upscale = OptionalInt(parameters, "upscale_factor", "parameters.upscale_factor", 1, 4) ?? 1;
        OptionalBool(parameters, "is_sketch", "parameters.is_sketch");

        // Output follows the input image (known only for PNG data URIs; 1024*1024 otherwise), capped at 4096 per side.
        var (width, height) = baseSize ?? (1024, 1024);
        if (function == "expand")
        {
            width = (int)Math.Round(width * (left + right - 1));
            height = (int)Math.Round(height * (top + bottom - 1));
        }
        else if (function == "super_resolution")
        {
            width *= upscale;
            height *= upscale;
        }

        return new TaskPlan(prompt, null, n, Math.Min(width, 4096), Math.Min(height, 4096), seed, PromptExtend: false, null);
    }

    internal static TaskPlan ValidateWan25(JsonElement input, JsonElement? parameters, OssInputs? oss)
    {
        var prompt = RequiredPrompt(input, "input.prompt", 2000, truncate: false);
        OptionalPrompt(input, "negative_prompt", "input.negative_prompt", 500, truncate: false);
        if (!input.TryGetProperty("images", out var images) || images.ValueKind == JsonValueKind.Null)
        {
            throw DashScopeError.InvalidParameter("Field required: input.images");
        }

        if (images.ValueKind != JsonValueKind.Array || images.GetArrayLength() is < 1 or > 3)
        {
            throw DashScopeError.InvalidParameter("input.images must be an array of 1 to 3 images.");
        }

        (int Width, int Height)? lastSize = null;
        var index = 0;
        foreach (var image in images.EnumerateArray())
        {
            var name = $"input.images[{index++}]";
            if (image.ValueKind != JsonValueKind.String)
            {
                throw DashScopeError.InvalidParameter($"{name} must be a URL or a data URI string.");
            }

            lastSize = CheckImage(image.GetString()!, name, Wan25Mimes, minSide: 384, maxSide: 5000, oss);
        }

        var n = OptionalInt(parameters, "n", "parameters.n", 1, 4) ?? 4;
        var seed = OptionalInt(parameters, "seed", "parameters.seed", 0, int.MaxValue);
        var extend = OptionalBool(parameters, "prompt_extend", "parameters.prompt_extend") ?? true;
        OptionalBool(parameters, "watermark", "parameters.watermark");

        int width, height;
        if (OptionalString(parameters, "size", "parameters.size") is { } size)
        {
            (width, height) = ParseSize(size, "parameters.size");
            long pixels = (long)width * height;
            if (pixels < 768 * 768 || pixels > 1280 * 1280)
            {
                throw DashScopeError.InvalidParameter(
                    $"parameters.size {size}: the total pixels must be between 768*768 and 1280*1280.");
            }

            var ratio = (double)width / height;
            if (ratio < 0.25 || ratio > 4)
            {
                throw DashScopeError.InvalidParameter($"parameters.size {size}: the aspect ratio must be between 1:4 and 4:1.");
            }
        }
        else
        {
            // ≈1280*1280 pixels with the last input's aspect ratio (1:1 when it cannot be read), clamped to 1:4–4:1.
            var ratio = lastSize is { } s ? Math.Clamp((double)s.Width / s.Height, 0.25, 4) : 1.0;
            width = (int)Math.Floor(Math.Sqrt(1280.0 * 1280.0 * ratio));
            height = (int)Math.Floor(width / ratio);
        }

        return new TaskPlan(prompt, extend ? ExtendPrompt(prompt) : null, n, width, height, seed, extend, null);
    }

    internal static TaskPlan ValidateQwenAsync(JsonElement input, JsonElement? parameters)
    {
        var prompt = RequiredPrompt(input, "input.prompt", 800, truncate: true);
        OptionalPrompt(input, "negative_prompt", "input.negative_prompt", 500, truncate: true);
        return ValidateQwen(prompt, parameters);
    }

    /// <summary>qwen parameters, shared by the async and sync forms (the sync form has negative_prompt here).</summary>
    internal static TaskPlan ValidateQwen(string prompt, JsonElement? parameters)
    {
        OptionalPrompt(parameters, "negative_prompt", "parameters.negative_prompt", 500, truncate: true);
        if (parameters is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("n", out var n) && !(n.TryGetInt32(out var value) && value == 1))
        {
            throw DashScopeError.InvalidParameter("num_images_per_prompt must be 1");
        }

        var size = OptionalString(parameters, "size", "parameters.size") ?? "1328*1328";
        if (!QwenSizes.Contains(size, StringComparer.Ordinal))
        {
            throw DashScopeError.InvalidParameter($"parameters.size must be one of {string.Join(", ", QwenSizes)} (got '{size}').");
        }

        var seed = OptionalInt(parameters, "seed", "parameters.seed", 0, int.MaxValue);
        var extend = OptionalBool(parameters, "prompt_extend", "parameters.prompt_extend") ?? true;
        OptionalBool(parameters, "watermark", "parameters.watermark");
        var (width, height) = ParseSize(size, "parameters.size");
        return new TaskPlan(prompt, extend ? ExtendPrompt(prompt) : null, 1, width, height, seed, extend, null);
    }

    /// <summary>The sync multimodal body: exactly one user message with exactly one text item.</summary>
    internal static TaskPlan ValidateMultimodal(JsonElement input, JsonElement? parameters)
    {
        if (!input.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() != 1)
        {
            throw DashScopeError.InvalidParameter("input.messages must contain exactly one message.");
        }

        var message = messages[0];
        if (message.ValueKind != JsonValueKind.Object
            || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String || role.GetString() != "user")
        {
            throw DashScopeError.InvalidParameter("input.messages[0].role must be 'user'.");
        }

        if (!message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
        {
            throw DashScopeError.InvalidParameter("Field required: input.messages[0].content");
        }

        var texts = content.EnumerateArray()
            .Where(c => c.ValueKind == JsonValueKind.Object && c.TryGetProperty("text", out _))
            .ToList();
        if (texts.Count != 1)
        {
            throw DashScopeError.InvalidParameter("input.messages[0].content must contain exactly one text item.");
        }

        var prompt = RequiredPrompt(texts[0], "input.messages[0].content[0].text", 800, truncate: true, property: "text");
        return ValidateQwen(prompt, parameters);
    }

    internal static string RequiredPrompt(JsonElement obj, string name, int max, bool truncate, string property = "prompt")
    {
        var prompt = OptionalPrompt(obj, property, name, max, truncate);
        return string.IsNullOrWhiteSpace(prompt) ? throw DashScopeError.InvalidParameter($"Field required: {name}") : prompt;
    }

    /// <summary>A text limited to <paramref name="max"/> characters: truncated where the docs say the service truncates, else refused.</summary>
    internal static string? OptionalPrompt(JsonElement? obj, string property, string name, int max, bool truncate)
    {
        var text = OptionalString(obj, property, name);
        if (text is null || text.Length <= max)
        {
            return text;
        }

        return truncate
            ? text[..max]
            : throw DashScopeError.InvalidParameter($"{name} is too long: {text.Length} characters, at most {max} are allowed.");
    }

    private static string ExtendPrompt(string prompt) =>
        prompt + " Rendered with a balanced composition, soft natural light, rich detail and harmonious colours.";

    private static (int Width, int Height) ParseSize(string size, string name)
    {
        var match = SizePattern().Match(size);
        if (!match.Success
            || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var width)
            || !int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var height)
            || width <= 0 || height <= 0)
        {
            throw DashScopeError.InvalidParameter($"{name} must look like 'width*height' (got '{size}').");
        }

        return (width, height);
    }

    /// <summary>Checks an image reference (http(s) URL, data URI, or <c>oss://</c> temporary file); returns the size when
    /// it can be read (PNG data URIs and PNG temporary files).</summary>
    private static (int Width, int Height)? CheckImage(string value, string name, string[] mimes, int minSide, int maxSide, OssInputs? oss)
    {
        if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var match = DataUriPattern().Match(value);
            if (!match.Success)
            {
                throw DashScopeError.InvalidParameter($"{name} is not a valid data URI; expected data:{{mime}};base64,{{data}}.");
            }

            var mime = match.Groups[1].Value.ToLowerInvariant();
            CheckMime(mime, name, mimes);
            var data = match.Groups[2].Value;
            if ((long)data.Length * 3 / 4 > MaxImageBytes + 2)
            {
                throw DashScopeError.InvalidParameter($"{name}: the image exceeds 10 MB.");
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(data);
            }
            catch (FormatException)
            {
                throw DashScopeError.InvalidParameter($"{name}: the base64 data is not valid.");
            }

            return CheckBytes(bytes, mime, name, minSide, maxSide);
        }

        if (value.StartsWith(OssInputs.Scheme, StringComparison.Ordinal))
        {
            // Without X-DashScope-OssResourceResolve the service treats oss:// as an unusable URL (its exact message is not documented).
            var (content, contentType) = oss?.Resolve(value, name)
                ?? throw new DashScopeError(400, "InvalidURL",
                    $"{name} is an oss:// URL, but the request has no X-DashScope-OssResourceResolve: enable header.");
            var mime = (contentType ?? (ReadPngSize(content) is null ? "application/octet-stream" : "image/png")).ToLowerInvariant();
            CheckMime(mime, name, mimes);
            return CheckBytes(content, mime, name, minSide, maxSide);
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new DashScopeError(400, "InvalidURL", $"{name} must be an http(s) URL or a data URI.");
        }

        return null;
    }

    private static void CheckMime(string mime, string name, string[] mimes)
    {
        if (!mimes.Contains(mime, StringComparer.Ordinal))
        {
            throw DashScopeError.InvalidParameter($"{name}: unsupported image type {mime}; use one of {string.Join(", ", mimes)}.");
        }
    }

    /// <summary>The checks an image's bytes get, however they arrived: at most 10 MB, and each side in range for PNGs.</summary>
    private static (int Width, int Height)? CheckBytes(byte[] bytes, string mime, string name, int minSide, int maxSide)
    {
        if (bytes.Length > MaxImageBytes)
        {
            throw DashScopeError.InvalidParameter($"{name}: the image exceeds 10 MB.");
        }

        if (mime == "image/png" && ReadPngSize(bytes) is { } size)
        {
            if (size.Width < minSide || size.Height < minSide || size.Width > maxSide || size.Height > maxSide)
            {
                throw DashScopeError.InvalidParameter(
                    $"{name}: the image is {size.Width}*{size.Height}; each side must be between {minSide} and {maxSide} pixels.");
            }

            return size;
        }

        return null;
    }

    private static (int Width, int Height)? ReadPngSize(byte[] png)
    {
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 24 || !png.AsSpan(0, 8).SequenceEqual(signature))
        {
            return null;
        }

        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    private static string? OptionalString(JsonElement? obj, string property, string name)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw DashScopeError.InvalidParameter($"{name} must be a string.");
    }

    private static int? OptionalInt(JsonElement? obj, string property, string name, int min, int max)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw DashScopeError.InvalidParameter($"{name} must be an integer.");
        }

        return number < min || number > max
            ? throw DashScopeError.InvalidParameter($"{name} must be between {min} and {max} (got {number}).")
            : (int)number;
    }

    private static double? OptionalNumber(JsonElement? obj, string property, string name, double min, double max)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw DashScopeError.InvalidParameter($"{name} must be a number.");
        }

        var number = value.GetDouble();
        return number < min || number > max
            ? throw DashScopeError.InvalidParameter(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max} (got {number})."))
            : number;
    }

    private static bool? OptionalBool(JsonElement? obj, string property, string name)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw DashScopeError.InvalidParameter($"{name} must be true or false."),
        };
    }

    [GeneratedRegex(@"^(\d{1,5})\*(\d{1,5})$")]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^data:([A-Za-z]+/[A-Za-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$", RegexOptions.Singleline)]
    private static partial Regex DataUriPattern();
}
