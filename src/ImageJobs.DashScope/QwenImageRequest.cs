using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

/// <summary>
/// qwen-image / qwen-image-plus text-to-image (seed 003). Send it as an asynchronous task with
/// <see cref="DashScopeClient.SubmitAsync(DashScopeImageRequest, CancellationToken)"/>, or in one synchronous call with
/// <see cref="DashScopeClient.GenerateAsync(DashScopeImageRequest, CancellationToken)"/> (body from
/// <see cref="ToMultimodalJson"/>: prompt in <c>input.messages</c>, negative prompt in <c>parameters</c>).
/// </summary>
public sealed class QwenImageRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="prompt"><c>input.prompt</c>: at most 800 characters.</param>
    /// <param name="model"><see cref="DashScopeModels.QwenImagePlus"/> (default) or <see cref="DashScopeModels.QwenImage"/>.</param>
    public QwenImageRequest(string prompt, string model = DashScopeModels.QwenImagePlus)
        : base(model)
    {
        Prompt = prompt;
    }

    /// <summary>The prompt: <c>input.prompt</c> (async) or <c>input.messages[0].content[0].text</c> (sync); ≤ 800 characters.</summary>
    public string Prompt { get; set; }

    /// <summary>The negative prompt: <c>input.negative_prompt</c> (async) or <c>parameters.negative_prompt</c> (sync); ≤ 500.</summary>
    public string? NegativePrompt { get; set; }

    /// <summary><c>parameters.size</c>: one of <see cref="QwenImageSizes.All"/> (default <c>1328*1328</c>).</summary>
    public string? Size { get; set; }

    /// <summary><c>parameters.n</c>: must be 1 when set.</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.prompt_extend</c> (default true, adds 3–4 s).</summary>
    public bool? PromptExtend { get; set; }

    /// <summary><c>parameters.watermark</c> (default false).</summary>
    public bool? Watermark { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647.</summary>
    public int? Seed { get; set; }

    /// <summary>The body of the synchronous <c>multimodal-generation/generation</c> call.</summary>
    /// <returns><c>{"model", "input": {"messages": [{"role": "user", "content": [{"text"}]}]}, "parameters"}</c>.</returns>
    public JsonObject ToMultimodalJson()
    {
        var parameters = new JsonObject();
        Put(parameters, "negative_prompt", NegativePrompt);
        WriteSharedParameters(parameters);
        var body = new JsonObject
        {
            ["model"] = Model,
            ["input"] = new JsonObject
            {
                ["messages"] = new JsonArray(
                    new JsonObject
                    {
                        ["role"] = "user",
                        ["content"] = new JsonArray(new JsonObject { ["text"] = Prompt }),
                    }),
            },
        };
        if (parameters.Count > 0)
        {
            body["parameters"] = parameters;
        }

        return body;
    }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "prompt", Prompt);
        Put(input, "negative_prompt", NegativePrompt);
    }

    private protected override void WriteParameters(JsonObject parameters) => WriteSharedParameters(parameters);

    private void WriteSharedParameters(JsonObject parameters)
    {
        Put(parameters, "size", Size);
        Put(parameters, "n", N);
        Put(parameters, "prompt_extend", PromptExtend);
        Put(parameters, "watermark", Watermark);
        Put(parameters, "seed", Seed);
    }
}
