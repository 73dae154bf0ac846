using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

/// <summary>wanx-v1 text-to-image (seed 000): prompt, optional negative prompt, optional reference image.</summary>
public sealed class WanxTextToImageRequest : DashScopeImageRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="prompt">The prompt (<c>input.prompt</c>, at most 800 characters).</param>
    public WanxTextToImageRequest(string prompt)
        : base(DashScopeModels.WanxV1)
    {
        Prompt = prompt;
    }

    /// <summary><c>input.prompt</c>: at most 800 characters.</summary>
    public string Prompt { get; set; }

    /// <summary><c>input.negative_prompt</c>: at most 500 characters.</summary>
    public string? NegativePrompt { get; set; }

    /// <summary><c>input.ref_img</c>: a reference image (http(s) URL or data URI; JPG/PNG/BMP/TIFF/WEBP, ≤ 10 MB).</summary>
    public string? ReferenceImage { get; set; }

    /// <summary><c>parameters.style</c>: one of <see cref="WanxStyles.All"/> (service default <c>&lt;auto&gt;</c>).</summary>
    public string? Style { get; set; }

    /// <summary><c>parameters.size</c>: one of <see cref="WanxSizes.All"/> (service default <c>1024*1024</c>).</summary>
    public string? Size { get; set; }

    /// <summary><c>parameters.n</c>: 1–4. The service default is 4 (billed per image); set it explicitly.</summary>
    public int? N { get; set; }

    /// <summary><c>parameters.seed</c>: 0–2147483647; image i uses seed + i.</summary>
    public int? Seed { get; set; }

    /// <summary><c>parameters.ref_strength</c>: 0.0–1.0, only with <see cref="ReferenceImage"/>.</summary>
    public double? ReferenceStrength { get; set; }

    /// <summary><c>parameters.ref_mode</c>: <c>repaint</c> or <c>refonly</c> (<see cref="WanxRefModes"/>), only with a reference image.</summary>
    public string? ReferenceMode { get; set; }

    private protected override void WriteInput(JsonObject input)
    {
        Put(input, "prompt", Prompt);
        Put(input, "negative_prompt", NegativePrompt);
        Put(input, DashScopeModelCatalog.WanxReferenceImage.Name, ReferenceImage);
    }

    private protected override void WriteParameters(JsonObject parameters)
    {
        Put(parameters, "style", Style);
        Put(parameters, "size", Size);
        Put(parameters, "n", N);
        Put(parameters, "seed", Seed);
        Put(parameters, "ref_strength", ReferenceStrength);
        Put(parameters, "ref_mode", ReferenceMode);
    }
}
