using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

/// <summary>wan2.5-i2i-preview image editing / multi-image fusion (seed 002): 1–3 input images.</summary>
public sealed class WanImageToImageRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="prompt"><c>input.prompt</c>: at most 2000 characters.</param>
    /// <param name="images"><c>input.images</c>: 1–3 http(s) URLs or data URIs.</param>
    public WanImageToImageRequest(string prompt, IEnumerable<string> images)
        : base(DashScopeModels.Wan25ImageToImagePreview)
    {
        ArgumentNullException.ThrowIfNull(images);
        Prompt = prompt;
        Images = [.. images];
    }

    /// <summary><c>input.prompt</c>: at most 2000 characters.</summary>
    public string Prompt { get; set; }

    /// <summary><c>input.negative_prompt</c>: at most 500 characters.</summary>
    public string? NegativePrompt { get; set; }

    /// <summary><c>input.images</c>: 1–3 images (JPEG/PNG/BMP/WEBP; URL or data URI; ≤ 10 MB each).</summary>
    public IList<string> Images { get; }

    /// <summary><c>parameters.size</c>: <c>W*H</c> with W·H in [768·768, 1280·1280] and aspect in [1:4, 4:1];
    /// omitted → about 1280·1280 with the last input's aspect ratio.</summary>
    public string? Size { get; set; }

    /// <summary><c>parameters.n</c>: 1–4. The service default is 4 (billed per image); set it explicitly.</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647.</summary>
    public int? Seed { get; set; }

    /// <summary><c>parameters.watermark</c> (default false).</summary>
    public bool? Watermark { get; set; }

    /// <summary><c>parameters.prompt_extend</c> (default true; results then carry <c>actual_prompt</c>).</summary>
    public bool? PromptExtend { get; set; }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "prompt", Prompt);
        Put(input, "negative_prompt", NegativePrompt);
        input[DashScopeModelCatalog.WanImages.Name] = new JsonArray([.. Images.Select(i => (JsonNode?)JsonValue.Create(i))]);
    }

    private protected override void WriteParameters(JsonObject parameters)
    {
        Put(parameters, "size", Size);
        Put(parameters, "n", N);
        Put(parameters, "seed", Seed);
        Put(parameters, "watermark", Watermark);
        Put(parameters, "prompt_extend", PromptExtend);
    }
}
