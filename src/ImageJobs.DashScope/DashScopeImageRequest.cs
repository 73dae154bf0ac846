using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

/// <summary>
/// A DashScope image-generation request in its wire shape <c>{model, input, parameters}</c>. Create one of the typed
/// requests (<see cref="WanxTextToImageRequest"/>, <see cref="WanxImageEditRequest"/>,
/// <see cref="WanImageToImageRequest"/>, <see cref="QwenImageRequest"/>) or, for DashScope's own snake_case JSON,
/// <see cref="FromJson(JsonObject)"/>. Both kinds are validated by <see cref="DashScopeRequestValidator"/>.
/// </summary>
public abstract class DashScopeImageRequest
{
    internal static readonly JsonSerializerOptions WireJson = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private protected DashScopeImageRequest(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        Model = model;
    }

    /// <summary>The model name sent in <c>model</c>.</summary>
    public string Model { get; }

    /// <summary>
    /// The endpoint the request goes to: from the model's profile, or for an unknown model (validation off)
    /// image-to-image when the input carries images, else text-to-image.
    /// </summary>
    public DashScopeTaskKind TaskKind
    {
        get
        {
            if (DashScopeModels.TryGetProfile(Model, out var profile))
            {
                return profile.Kind;
            }

            var input = ToJson()["input"] as JsonObject;
            return input is not null && DashScopeModelCatalog.HasImageToImageInput(input)
                ? DashScopeTaskKind.ImageToImage
                : DashScopeTaskKind.TextToImage;
        }
    }

    /// <summary>
    /// True when this is the synchronous qwen-image call (<c>input.messages</c>), sent with
    /// <see cref="DashScopeClient.GenerateAsync(DashScopeImageRequest, CancellationToken)"/>; false for asynchronous
    /// image-synthesis tasks sent with <see cref="DashScopeClient.SubmitAsync(DashScopeImageRequest, CancellationToken)"/>.
    /// </summary>
    public virtual bool IsSynchronousCall => false;

    /// <summary>Builds the request body in DashScope's shape (a fresh copy each call).</summary>
    /// <returns><c>{"model": …, "input": {…}, "parameters": {…}}</c>; <c>parameters</c> is left out when empty.</returns>
    public virtual JsonObject ToJson()
    {
        var input = new JsonObject();
        var parameters = new JsonObject();
        WriteInput(input);
        WriteParameters(parameters);
        var body = new JsonObject { ["model"] = Model, ["input"] = input };
        if (parameters.Count > 0)
        {
            body["parameters"] = parameters;
        }

        return body;
    }

    /// <summary>The body exactly as the client sends it (UTF-8 JSON, non-ASCII text unescaped).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJsonString() => ToJson().ToJsonString(WireJson);

    /// <summary>Validates the request with <see cref="DashScopeRequestValidator"/>.</summary>
    /// <returns>Every failure; empty when valid.</returns>
    public IReadOnlyList<DashScopeValidationError> Validate() => DashScopeRequestValidator.Validate(this);

    /// <summary>
    /// Wraps a body in DashScope's own shape (as pasted from the documentation). Nothing is checked here: call
    /// <see cref="Validate"/> (the client does before sending, unless turned off). The body is copied and sent back
    /// unchanged: same fields, same order, same number text.
    /// </summary>
    /// <param name="body"><c>{"model": …, "input": {…}, "parameters": {…}}</c>.</param>
    /// <returns>The request.</returns>
    public static DashScopeImageRequest FromJson(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var model = body["model"] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : string.Empty;
        return new DashScopeJsonImageRequest(model, (JsonObject)body.DeepClone());
    }

    /// <summary>Wraps a model name and DashScope's own <c>input</c> and <c>parameters</c> objects.</summary>
    /// <param name="model">The model name.</param>
    /// <param name="input">The <c>input</c> object (copied).</param>
    /// <param name="parameters">The <c>parameters</c> object (copied), if any.</param>
    /// <returns>The request.</returns>
    public static DashScopeImageRequest FromJson(string model, JsonObject input, JsonObject? parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var body = new JsonObject { ["model"] = model, ["input"] = input.DeepClone() };
        if (parameters is not null)
        {
            body["parameters"] = parameters.DeepClone();
        }

        return new DashScopeJsonImageRequest(model, body);
    }

    /// <summary>Parses a JSON body in DashScope's shape.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The request.</returns>
    /// <exception cref="DashScopeValidationException">The text is not a JSON object.</exception>
    public static DashScopeImageRequest Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new DashScopeValidationException(
                [new DashScopeValidationError("$", $"The request is not valid JSON: {ex.Message}")]);
        }

        return node is JsonObject body
            ? FromJson(body)
            : throw new DashScopeValidationException(
                [new DashScopeValidationError("$", "The request must be a JSON object {\"model\", \"input\", \"parameters\"}.")]);
    }

    private protected virtual void WriteInput(JsonObject input)
    {
    }

    private protected virtual void WriteParameters(JsonObject parameters)
    {
    }

    private protected static void Put(JsonObject target, string name, string? value)
    {
        if (value is not null)
        {
            target[name] = value;
        }
    }

    private protected static void Put(JsonObject target, string name, int? value)
    {
        if (value is not null)
        {
            target[name] = value.Value;
        }
    }

    private protected static void Put(JsonObject target, string name, double? value)
    {
        if (value is not null)
        {
            target[name] = value.Value;
        }
    }

    private protected static void Put(JsonObject target, string name, bool? value)
    {
        if (value is not null)
        {
            target[name] = value.Value;
        }
    }
}

/// <summary>A request given as DashScope's own JSON; sent back unchanged.</summary>
internal sealed class DashScopeJsonImageRequest : DashScopeImageRequest
{
    private readonly JsonObject _body;

    public DashScopeJsonImageRequest(string model, JsonObject body)
        : base(string.IsNullOrWhiteSpace(model) ? "(missing)" : model)
    {
        _body = body;
    }

    public override bool IsSynchronousCall =>
        DashScopeModels.IsQwenImage(Model) && _body["input"] is JsonObject input && input.ContainsKey("messages");

    public override JsonObject ToJson() => (JsonObject)_body.DeepClone();
}
