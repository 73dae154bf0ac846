using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ImageJobs.DashScope;

/// <summary>
/// The per-model rules of DashScope image generation, applied to the request in DashScope's own
/// <c>{model, input, parameters}</c> shape. Typed requests (<see cref="WanxTextToImageRequest"/>…) and raw JSON
/// (<see cref="DashScopeImageRequest.FromJson(JsonObject)"/>) both end up here, so there is one set of rules.
/// Callable on its own (the workflow validates jobs at the HTTP edge).
/// </summary>
public static partial class DashScopeRequestValidator
{
    private const int MaxPromptLength = 800;
    private const int MaxWan25PromptLength = 2000;
    private const int MaxNegativePromptLength = 500;
    private const long MaxSeed = 2147483647;
    private const int Wan25MinPixels = 768 * 768;
    private const int Wan25MaxPixels = 1280 * 1280;

    private static readonly string[] s_strengthFunctions =
        [WanxImageEditFunctions.StylizationAll, WanxImageEditFunctions.DescriptionEdit];

    /// <summary>Validates a typed or raw request.</summary>
    /// <param name="request">The request.</param>
    /// <returns>Every failure; empty when the request is valid.</returns>
    public static IReadOnlyList<DashScopeValidationError> Validate(DashScopeImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Validate(request.ToJson());
    }

    /// <summary>Validates a whole request body <c>{"model": …, "input": {…}, "parameters": {…}}</c>.</summary>
    /// <param name="body">The body as DashScope receives it.</param>
    /// <returns>Every failure; empty when the request is valid.</returns>
    public static IReadOnlyList<DashScopeValidationError> Validate(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var errors = new List<DashScopeValidationError>();
        foreach (var (key, _) in body)
        {
            if (key is not ("model" or "input" or "parameters"))
            {
                errors.Add(new(key, $"{key} is not part of a DashScope request; allowed top-level fields: model, input, parameters."));
            }
        }

        string? model = null;
        if (body["model"] is JsonValue modelValue && modelValue.GetValueKind() == JsonValueKind.String)
        {
            model = modelValue.GetValue<string>();
        }
        else if (body["model"] is not null)
        {
            errors.Add(new("model", $"model must be a string, one of {Quote(DashScopeModels.All)}."));
            return errors;
        }

        if (body.ContainsKey("input") && body["input"] is not JsonObject)
        {
            errors.Add(new("input", "input must be a JSON object."));
        }

        if (body["parameters"] is not null and not JsonObject)
        {
            errors.Add(new("parameters", "parameters must be a JSON object."));
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        errors.AddRange(Validate(model, body["input"] as JsonObject, body["parameters"] as JsonObject));
        return errors;
    }

    /// <summary>Validates a request given as its model and its <c>input</c> and <c>parameters</c> objects.</summary>
    /// <param name="model">The model name.</param>
    /// <param name="input">The <c>input</c> object.</param>
    /// <param name="parameters">The <c>parameters</c> object, if any.</param>
    /// <returns>Every failure; empty when the request is valid.</returns>
    public static IReadOnlyList<DashScopeValidationError> Validate(string? model, JsonObject? input, JsonObject? parameters)
    {
        var v = new Checker(model ?? string.Empty);
        if (string.IsNullOrWhiteSpace(model))
        {
            v.Add("model", $"model is required; one of {Quote(DashScopeModels.All)}.");
            return v.Errors;
        }

        if (!DashScopeModelCatalog.TryGet(model, out var profile))
        {
            v.Add("model", $"model must be one of {Quote(DashScopeModels.All)}; got '{model}'.");
            return v.Errors;
        }

        if (input is null)
        {
            v.Add("input", "input is required (a JSON object).");
            return v.Errors;
        }

        parameters ??= [];
        switch (profile.Family)
        {
            case DashScopeModelFamily.WanxTextToImage:
                ValidateWanxV1(v, profile, input, parameters);
                break;
            case DashScopeModelFamily.WanxImageEdit:
                ValidateImageEdit(v, profile, input, parameters);
                break;
            case DashScopeModelFamily.WanImageToImage:
                ValidateWan25(v, profile, input, parameters);
                break;
            default:
                if (input.ContainsKey("messages"))
                {
                    ValidateQwenSync(v, input, parameters);
                }
                else
                {
                    ValidateQwenAsync(v, input, parameters);
                }

                break;
        }

        return v.Errors;
    }

    /// <summary>Throws when the request is invalid.</summary>
    /// <param name="request">The request.</param>
    /// <exception cref="DashScopeValidationException">The request breaks at least one rule; every failure is listed.</exception>
    public static void ThrowIfInvalid(DashScopeImageRequest request)
    {
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            throw new DashScopeValidationException(errors);
        }
    }

    /// <summary>Throws when the body is invalid.</summary>
    /// <param name="body">The request body in DashScope's shape.</param>
    /// <exception cref="DashScopeValidationException">The body breaks at least one rule; every failure is listed.</exception>
    public static void ThrowIfInvalid(JsonObject body)
    {
        var errors = Validate(body);
        if (errors.Count > 0)
        {
            throw new DashScopeValidationException(errors);
        }
    }

    private static void ValidateWanxV1(Checker v, DashScopeModelProfile profile, JsonObject input, JsonObject parameters)
    {
        v.Known(input, "input", ["prompt", "negative_prompt", .. ImageFieldNames(profile)]);
        v.Known(parameters, "parameters", ["style", "size", "n", "seed", "ref_strength", "ref_mode"]);
        v.Text(input, "input", "prompt", required: true, MaxPromptLength);
        v.Text(input, "input", "negative_prompt", required: false, MaxNegativePromptLength);
        var reference = DashScopeModelCatalog.WanxReferenceImage;
        var hasRef = ValidateImages(v, profile, input).Contains(reference);
        v.OneOf(parameters, "parameters", "style", WanxStyles.All);
        v.OneOf(parameters, "parameters", "size", WanxSizes.All);
        v.Integer(parameters, "parameters", "n", 1, 4);
        v.Integer(parameters, "parameters", "seed", 0, MaxSeed);
        v.Number(parameters, "parameters", "ref_strength", 0.0, 1.0);
        v.OneOf(parameters, "parameters", "ref_mode", WanxRefModes.All);
        if (!hasRef)
        {
            foreach (var name in new[] { "ref_strength", "ref_mode" })
            {
                if (parameters.ContainsKey(name))
                {
                    v.Add($"parameters.{name}", $"parameters.{name} applies only with a reference image; set {reference.Path} or remove it.");
                }
            }
        }
    }

    private static void ValidateImageEdit(Checker v, DashScopeModelProfile profile, JsonObject input, JsonObject parameters)
    {
        v.Known(input, "input", ["function", "prompt", .. ImageFieldNames(profile)]);
        v.Known(parameters, "parameters",
            ["n", "seed", "watermark", "strength", "top_scale", "bottom_scale", "left_scale", "right_scale", "upscale_factor", "is_sketch"]);
        var function = v.OneOf(input, "input", "function", WanxImageEditFunctions.All, required: true);
        v.Text(input, "input", "prompt", required: true, MaxPromptLength);
        var mask = DashScopeModelCatalog.WanxMaskImage;
        var hasMask = ValidateImages(v, profile, input).Contains(mask);
        if (function == WanxImageEditFunctions.DescriptionEditWithMask && !hasMask && input[mask.Name] is null)
        {
            v.Add(mask.Path,
                $"{mask.Path} is required when input.function is 'description_edit_with_mask' (white = edit, black = keep).");
        }
        else if (function is not null && function != WanxImageEditFunctions.DescriptionEditWithMask && input.ContainsKey(mask.Name))
        {
            v.Add(mask.Path,
                $"{mask.Path} is allowed only when input.function is 'description_edit_with_mask'; input.function is '{function}'.");
        }

        v.Integer(parameters, "parameters", "n", 1, 4);
        v.Integer(parameters, "parameters", "seed", 0, MaxSeed);
        v.Boolean(parameters, "parameters", "watermark");
        v.Number(parameters, "parameters", "strength", 0.0, 1.0);
        foreach (var scale in new[] { "top_scale", "bottom_scale", "left_scale", "right_scale" })
        {
            v.Number(parameters, "parameters", scale, 1.0, 2.0);
        }

        v.Integer(parameters, "parameters", "upscale_factor", 1, 4);
        v.Boolean(parameters, "parameters", "is_sketch");

        if (function is null)
        {
            return;
        }

        v.OnlyFor(parameters, "strength", function, s_strengthFunctions);
        foreach (var scale in new[] { "top_scale", "bottom_scale", "left_scale", "right_scale" })
        {
            v.OnlyFor(parameters, scale, function, [WanxImageEditFunctions.Expand]);
        }

        v.OnlyFor(parameters, "upscale_factor", function, [WanxImageEditFunctions.SuperResolution]);
        v.OnlyFor(parameters, "is_sketch", function, [WanxImageEditFunctions.Doodle]);
    }

    private static void ValidateWan25(Checker v, DashScopeModelProfile profile, JsonObject input, JsonObject parameters)
    {
        v.Known(input, "input", ["prompt", "negative_prompt", .. ImageFieldNames(profile)]);
        v.Known(parameters, "parameters", ["size", "n", "seed", "watermark", "prompt_extend"]);
        v.Text(input, "input", "prompt", required: true, MaxWan25PromptLength);
        v.Text(input, "input", "negative_prompt", required: false, MaxNegativePromptLength);
        ValidateImages(v, profile, input);

        if (v.String(parameters, "parameters", "size") is { } size)
        {
            var match = SizePattern().Match(size);
            if (!match.Success
                || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var width)
                || !long.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var height)
                || width == 0 || height == 0)
            {
                v.Add("parameters.size", $"parameters.size must be 'width*height' in pixels (for example '1280*1280'); got '{size}'.");
            }
            else
            {
                var pixels = width * height;
                if (pixels is < Wan25MinPixels or > Wan25MaxPixels)
                {
                    v.Add("parameters.size",
                        $"parameters.size must have total pixels from {Wan25MinPixels} (768*768) to {Wan25MaxPixels} (1280*1280); " +
                        $"got '{size}' = {pixels.ToString(CultureInfo.InvariantCulture)}.");
                }

                if (width > 4 * height || height > 4 * width)
                {
                    v.Add("parameters.size",
                        $"parameters.size must have an aspect ratio (width:height) from 1:4 to 4:1; got '{size}'.");
                }
            }
        }

        v.Integer(parameters, "parameters", "n", 1, 4);
        v.Integer(parameters, "parameters", "seed", 0, MaxSeed);
        v.Boolean(parameters, "parameters", "watermark");
        v.Boolean(parameters, "parameters", "prompt_extend");
    }

    private static void ValidateQwenAsync(Checker v, JsonObject input, JsonObject parameters)
    {
        v.Known(input, "input", ["prompt", "negative_prompt"]);
        if (parameters.ContainsKey("negative_prompt"))
        {
            v.Add("parameters.negative_prompt",
                "parameters.negative_prompt belongs in input.negative_prompt for the asynchronous image-synthesis call " +
                "(only the synchronous multimodal-generation call takes it in parameters).");
        }

        v.Known(parameters, "parameters", ["size", "n", "seed", "watermark", "prompt_extend", "negative_prompt"]);
        v.Text(input, "input", "prompt", required: true, MaxPromptLength);
        v.Text(input, "input", "negative_prompt", required: false, MaxNegativePromptLength);
        ValidateQwenParameters(v, parameters);
    }

    private static void ValidateQwenSync(Checker v, JsonObject input, JsonObject parameters)
    {
        if (input.ContainsKey("negative_prompt"))
        {
            v.Add("input.negative_prompt",
                "input.negative_prompt belongs in parameters.negative_prompt for the synchronous multimodal-generation call.");
        }

        v.Known(input, "input", ["messages", "negative_prompt"]);
        v.Known(parameters, "parameters", ["negative_prompt", "size", "n", "seed", "watermark", "prompt_extend"]);
        const string Shape = "exactly one {\"role\": \"user\", \"content\": [{\"text\": \"…\"}]}";
        if (input["messages"] is not JsonArray messages || messages.Count != 1)
        {
            v.Add("input.messages", $"input.messages must hold {Shape}.");
        }
        else if (messages[0] is not JsonObject message)
        {
            v.Add("input.messages[0]", $"input.messages[0] must be an object: {Shape}.");
        }
        else
        {
            v.Known(message, "input.messages[0]", ["role", "content"]);
            var role = v.String(message, "input.messages[0]", "role");
            if (role != "user")
            {
                v.Add("input.messages[0].role", $"input.messages[0].role must be 'user'; got '{role ?? "null"}'.");
            }

            if (message["content"] is not JsonArray content || content.Count != 1 || content[0] is not JsonObject part)
            {
                v.Add("input.messages[0].content", "input.messages[0].content must hold exactly one {\"text\": \"…\"} (the prompt).");
            }
            else
            {
                v.Known(part, "input.messages[0].content[0]", ["text"]);
                v.Text(part, "input.messages[0].content[0]", "text", required: true, MaxPromptLength);
            }
        }

        v.Text(parameters, "parameters", "negative_prompt", required: false, MaxNegativePromptLength);
        ValidateQwenParameters(v, parameters);
    }

    private static void ValidateQwenParameters(Checker v, JsonObject parameters)
    {
        v.OneOf(parameters, "parameters", "size", QwenImageSizes.All);
        if (parameters["n"] is { } n)
        {
            if (!Checker.TryNumber(n, out var value) || value != 1)
            {
                v.Add("parameters.n", $"parameters.n must be 1 for {v.Model} (it generates exactly one image); got {Checker.Raw(n)}.");
            }
        }

        v.Integer(parameters, "parameters", "seed", 0, MaxSeed);
        v.Boolean(parameters, "parameters", "watermark");
        v.Boolean(parameters, "parameters", "prompt_extend");
    }

    private static string[] ImageFieldNames(DashScopeModelProfile profile) => [.. profile.ImageFields.Select(f => f.Name)];

    // Checks every image field of the model, in catalog order; returns the fields present and valid.
    private static HashSet<DashScopeImageField> ValidateImages(Checker v, DashScopeModelProfile profile, JsonObject input)
    {
        var valid = new HashSet<DashScopeImageField>();
        foreach (var field in profile.ImageFields)
        {
            if (!field.IsArray)
            {
                if (v.Image(input[field.Name], field.Path, field.MimeTypes, field.Required))
                {
                    valid.Add(field);
                }

                continue;
            }

            var count = $"{field.MinCount} to {field.MaxCount}";
            var node = input[field.Name];
            if (node is null)
            {
                if (field.Required)
                {
                    v.Add(field.Path, $"{field.Path} is required: {count} images (http(s) URLs or data URIs).");
                }
            }
            else if (node is not JsonArray array)
            {
                v.Add(field.Path, $"{field.Path} must be an array of {count} images (http(s) URLs or data URIs).");
            }
            else if (array.Count < field.MinCount || array.Count > field.MaxCount)
            {
                v.Add(field.Path, $"{field.Path} must hold {count} images; got {array.Count}.");
            }
            else
            {
                var all = true;
                for (var i = 0; i < array.Count; i++)
                {
                    all &= v.Image(array[i], field.ItemPath(i), field.MimeTypes, required: true);
                }

                if (all)
                {
                    valid.Add(field);
                }
            }
        }

        return valid;
    }

    internal static string Quote(IEnumerable<string> values) => string.Join(", ", values.Select(x => $"'{x}'"));

    [GeneratedRegex(@"^\s*(\d{1,9})\s*\*\s*(\d{1,9})\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();

    private sealed class Checker(string model)
    {
        public string Model { get; } = model;

        public List<DashScopeValidationError> Errors { get; } = [];

        public void Add(string field, string message) => Errors.Add(new(field, message));

        public static string Raw(JsonNode? node) => node is null ? "null" : Truncate(node.ToJsonString(DashScopeImageRequest.WireJson), 60);

        public static bool TryNumber(JsonNode? node, out double value)
        {
            value = 0;
            return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
                && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }

        public void Known(JsonObject obj, string path, string[] allowed)
        {
            foreach (var (key, _) in obj)
            {
                if (!allowed.Contains(key, StringComparer.Ordinal))
                {
                    Add($"{path}.{key}", $"{path}.{key} is not a known field of {path} for {Model}; allowed: {string.Join(", ", allowed)}.");
                }
            }
        }

        public string? String(JsonObject obj, string path, string name, bool required = false)
        {
            var node = obj[name];
            if (node is null)
            {
                if (required)
                {
                    Add($"{path}.{name}", $"{path}.{name} is required.");
                }

                return null;
            }

            if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                return value.GetValue<string>();
            }

            Add($"{path}.{name}", $"{path}.{name} must be a string; got {Raw(node)}.");
            return null;
        }

        public void Text(JsonObject obj, string path, string name, bool required, int maxLength)
        {
            var text = String(obj, path, name, required);
            if (text is null)
            {
                return;
            }

            if (required && string.IsNullOrWhiteSpace(text))
            {
                Add($"{path}.{name}", $"{path}.{name} is required and must not be empty (at most {maxLength} characters).");
                return;
            }

            var length = text.EnumerateRunes().Count();
            if (length > maxLength)
            {
                Add($"{path}.{name}", $"{path}.{name} must be at most {maxLength} characters; got {length}.");
            }
        }

        public string? OneOf(JsonObject obj, string path, string name, IReadOnlyList<string> allowed, bool required = false)
        {
            var node = obj[name];
            if (node is null)
            {
                if (required)
                {
                    Add($"{path}.{name}", $"{path}.{name} is required; one of {Quote(allowed)}.");
                }

                return null;
            }

            var text = node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
            if (text is null || !allowed.Contains(text, StringComparer.Ordinal))
            {
                Add($"{path}.{name}", $"{path}.{name} must be one of {Quote(allowed)}; got {Raw(node)}.");
                return null;
            }

            return text;
        }

        public void Integer(JsonObject obj, string path, string name, long min, long max)
        {
            var node = obj[name];
            if (node is null)
            {
                return;
            }

            if (!TryNumber(node, out var value) || value != Math.Floor(value) || value < min || value > max)
            {
                Add($"{path}.{name}", $"{path}.{name} must be an integer from {min} to {max}; got {Raw(node)}.");
            }
        }

        public void Number(JsonObject obj, string path, string name, double min, double max)
        {
            var node = obj[name];
            if (node is null)
            {
                return;
            }

            if (!TryNumber(node, out var value) || double.IsNaN(value) || value < min || value > max)
            {
                Add($"{path}.{name}",
                    $"{path}.{name} must be a number from {min.ToString("0.0", CultureInfo.InvariantCulture)} to " +
                    $"{max.ToString("0.0", CultureInfo.InvariantCulture)}; got {Raw(node)}.");
            }
        }

        public void Boolean(JsonObject obj, string path, string name)
        {
            var node = obj[name];
            if (node is not null && (node is not JsonValue value || value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)))
            {
                Add($"{path}.{name}", $"{path}.{name} must be true or false; got {Raw(node)}.");
            }
        }

        public void OnlyFor(JsonObject parameters, string name, string function, string[] functions)
        {
            if (parameters.ContainsKey(name) && !functions.Contains(function, StringComparer.Ordinal))
            {
                Add($"parameters.{name}",
                    $"parameters.{name} applies only when input.function is {Quote(functions).Replace(", ", " or ", StringComparison.Ordinal)}; " +
                    $"input.function is '{function}'.");
            }
        }

        /// <summary>Checks an image input; returns true when it is present and valid.</summary>
        public bool Image(JsonNode? node, string path, IReadOnlyList<string> mimes, bool required = false)
        {
            if (node is null)
            {
                if (required)
                {
                    Add(path, $"{path} is required: an http(s) URL or a data URI (data:{{mime}};base64,{{data}}).");
                }

                return false;
            }

            if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
            {
                Add(path, $"{path} must be a string: an http(s) URL or a data URI; got {Raw(node)}.");
                return false;
            }

            var text = value.GetValue<string>();
            if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            {
                return DataUri(text, path, mimes);
            }

            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return true;
            }

            // A file in DashScope's temporary storage (DashScopeClient.UploadTemporaryFileAsync).
            if (text.StartsWith(DashScopeClient.TemporaryFileScheme, StringComparison.Ordinal) && text.Length > DashScopeClient.TemporaryFileScheme.Length)
            {
                return true;
            }

            Add(path, $"{path} must be an http(s) URL or a data URI (data:{{mime}};base64,{{data}}); got '{Truncate(text, 60)}'.");
            return false;
        }

        private bool DataUri(string text, string path, IReadOnlyList<string> mimes)
        {
            var comma = text.IndexOf(',', StringComparison.Ordinal);
            var header = comma < 0 ? string.Empty : text[5..comma];
            const string Suffix = ";base64";
            if (comma < 0 || !header.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase))
            {
                Add(path, $"{path} must be a data URI of the form data:{{mime}};base64,{{data}}; got '{Truncate(text, 40)}'.");
                return false;
            }

            var mime = header[..^Suffix.Length].Trim().ToLowerInvariant();
            if (!mimes.Contains(mime, StringComparer.Ordinal))
            {
                Add(path, $"{path} has MIME type '{mime}'; allowed: {string.Join(", ", mimes)}.");
                return false;
            }

            var data = text.AsSpan(comma + 1);
            if (data.IsEmpty || !Base64.IsValid(data, out var decodedLength))
            {
                Add(path, $"{path} is not valid base64 after 'data:{mime};base64,'.");
                return false;
            }

            if (decodedLength > DashScopeModels.MaxInputImageBytes)
            {
                Add(path, $"{path} decodes to {decodedLength} bytes; images must be at most {DashScopeModels.MaxInputImageBytes} bytes (10 MB).");
                return false;
            }

            // Compare the declared type with the magic bytes (a PNG labelled image/jpeg is rejected by the service).
            var head = data[..Math.Min(data.Length, 24)];
            head = head[..(head.Length / 4 * 4)];
            Span<byte> bytes = stackalloc byte[18];
            if (Convert.TryFromBase64Chars(head, bytes, out var written)
                && DashScopeImageData.DetectMimeType(bytes[..written]) is { } sniffed
                && sniffed != mime)
            {
                Add(path, $"{path} declares '{mime}' but its bytes are '{sniffed}'.");
                return false;
            }

            return true;
        }

        private static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…");
    }
}
