using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace ImageJobs.DashScope;

/// <summary>
/// Every model this library knows, with everything that differs between them: family, endpoint, latency, limits and
/// image input fields. The one place to edit when a model is added; the client, its validation, the job parser, the
/// intake triggers and the command line all ask it.
/// </summary>
public static class DashScopeModelCatalog
{
    /// <summary>wanx-v1's <c>input.ref_img</c>: an optional reference image (URL only, per the documentation).</summary>
    public static DashScopeImageField WanxReferenceImage { get; } = new(
        "ref_img", IsArray: false, IsMask: false, Required: false, MaxCount: 1, AcceptsDataUri: false, DashScopeImageData.SupportedMimeTypes);

    /// <summary>wanx2.1-imageedit's <c>input.base_image_url</c>: the image to edit.</summary>
    public static DashScopeImageField WanxBaseImage { get; } = new(
        "base_image_url", IsArray: false, IsMask: false, Required: true, MaxCount: 1, AcceptsDataUri: true, DashScopeImageData.SupportedMimeTypes);

    /// <summary>wanx2.1-imageedit's <c>input.mask_image_url</c>: required for (and only for) <c>description_edit_with_mask</c>.</summary>
    public static DashScopeImageField WanxMaskImage { get; } = new(
        "mask_image_url", IsArray: false, IsMask: true, Required: false, MaxCount: 1, AcceptsDataUri: true, DashScopeImageData.SupportedMimeTypes);

    /// <summary>wan2.5-i2i-preview's <c>input.images</c>: 1–3 images (JPEG, PNG, BMP, WEBP; no TIFF).</summary>
    public static DashScopeImageField WanImages { get; } = new(
        "images", IsArray: true, IsMask: false, Required: true, MaxCount: 3, AcceptsDataUri: true,
        [DashScopeImageData.Jpeg, DashScopeImageData.Png, DashScopeImageData.Bmp, DashScopeImageData.Webp]);

    /// <summary>Every model, in documentation order.</summary>
    public static IReadOnlyList<DashScopeModelProfile> Profiles { get; } =
    [
        new(DashScopeModels.WanxV1, DashScopeModelFamily.WanxTextToImage, DashScopeTaskKind.TextToImage,
            TimeSpan.FromSeconds(26), TimeSpan.FromSeconds(31),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 1, DefaultImageCount: 4, MaxImageCount: 4,
            BeijingOnly: true, SupportsSyncCall: false, ImageFields: [WanxReferenceImage]),
        new(DashScopeModels.WanxImageEdit, DashScopeModelFamily.WanxImageEdit, DashScopeTaskKind.ImageToImage,
            TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 2, DefaultImageCount: 1, MaxImageCount: 4,
            BeijingOnly: true, SupportsSyncCall: false, ImageFields: [WanxBaseImage, WanxMaskImage]),
        new(DashScopeModels.Wan25ImageToImagePreview, DashScopeModelFamily.WanImageToImage, DashScopeTaskKind.ImageToImage,
            TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2),
            SubmitRequestsPerSecond: 5, MaxConcurrentTasks: 5, DefaultImageCount: 4, MaxImageCount: 4,
            BeijingOnly: false, SupportsSyncCall: false, ImageFields: [WanImages]),
        new(DashScopeModels.QwenImage, DashScopeModelFamily.QwenImage, DashScopeTaskKind.TextToImage,
            TimeSpan.FromSeconds(14), TimeSpan.FromSeconds(20),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 2, DefaultImageCount: 1, MaxImageCount: 1,
            BeijingOnly: false, SupportsSyncCall: true, ImageFields: []),
        new(DashScopeModels.QwenImagePlus, DashScopeModelFamily.QwenImage, DashScopeTaskKind.TextToImage,
            TimeSpan.FromSeconds(14), TimeSpan.FromSeconds(20),
            SubmitRequestsPerSecond: 2, MaxConcurrentTasks: 2, DefaultImageCount: 1, MaxImageCount: 1,
            BeijingOnly: false, SupportsSyncCall: true, ImageFields: []),
    ];

    private static readonly Dictionary<string, DashScopeModelProfile> s_byModel =
        Profiles.ToDictionary(p => p.Model, StringComparer.Ordinal);

    /// <summary>Every image field of every model, each once, in catalog order.</summary>
    public static IReadOnlyList<DashScopeImageField> AllImageFields { get; } =
        [.. Profiles.SelectMany(p => p.ImageFields).Distinct()];

    /// <summary>The profile of a model.</summary>
    /// <param name="model">The model name (case-sensitive, as DashScope spells it).</param>
    /// <param name="profile">The profile when known.</param>
    /// <returns>True when the model is known.</returns>
    public static bool TryGet(string? model, [NotNullWhen(true)] out DashScopeModelProfile? profile)
    {
        profile = null;
        return model is not null && s_byModel.TryGetValue(model, out profile);
    }

    /// <summary>The image fields of a model, in the order its images are given (empty for an unknown model).</summary>
    /// <param name="model">The model name.</param>
    /// <returns>The fields.</returns>
    public static IReadOnlyList<DashScopeImageField> ImageFieldsOf(string? model) =>
        TryGet(model, out var profile) ? profile.ImageFields : [];

    /// <summary>The image field of <paramref name="model"/> at <paramref name="path"/> (an element path such as
    /// <c>input.images[0]</c> finds its array).</summary>
    /// <param name="model">The model name.</param>
    /// <param name="path">The JSON path.</param>
    /// <returns>The field, or null when the model has no image field there.</returns>
    public static DashScopeImageField? FindImageField(string? model, string? path) =>
        ImageFieldsOf(model).FirstOrDefault(f => f.Matches(path));

    /// <summary>
    /// Whether a model documents data URIs for an image field: false only where the field is known to take URLs
    /// alone (wanx-v1's <c>input.ref_img</c>); true for any other field or model.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The JSON path, for example <c>input.ref_img</c>.</param>
    /// <returns>False where only URLs are documented.</returns>
    public static bool AcceptsDataUri(string? model, string? path) =>
        FindImageField(model, path)?.AcceptsDataUri ?? true;

    /// <summary>
    /// The image values of an input, whatever its model, with their JSON paths: every single-image field of
    /// <see cref="AllImageFields"/> that holds a value, then every element of the array fields.
    /// </summary>
    /// <param name="input">A DashScope <c>input</c> object.</param>
    /// <returns>The paths (<c>input.base_image_url</c>, <c>input.images[1]</c>…) and values.</returns>
    public static IEnumerable<(string Path, JsonValue Node)> ImageValues(JsonObject input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Enumerate(input);

        static IEnumerable<(string Path, JsonValue Node)> Enumerate(JsonObject input)
        {
            foreach (var field in AllImageFields.Where(f => !f.IsArray))
            {
                if (input[field.Name] is JsonValue value)
                {
                    yield return (field.Path, value);
                }
            }

            foreach (var field in AllImageFields.Where(f => f.IsArray))
            {
                if (input[field.Name] is JsonArray items)
                {
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (items[i] is JsonValue value)
                        {
                            yield return (field.ItemPath(i), value);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// True when an input carries the main (non-mask) image of an image-to-image model: what decides the endpoint
    /// of a request for a model this library does not know.
    /// </summary>
    /// <param name="input">A DashScope <c>input</c> object.</param>
    /// <returns>True when the input looks like an image-to-image request.</returns>
    public static bool HasImageToImageInput(JsonObject input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Profiles
            .Where(p => p.Kind == DashScopeTaskKind.ImageToImage)
            .SelectMany(p => p.ImageFields)
            .Any(f => !f.IsMask && input.ContainsKey(f.Name));
    }

    /// <summary>
    /// Puts images into a model's input in the order of its <see cref="DashScopeModelProfile.ImageFields"/>: a
    /// single-image field takes the next image (and is left out when none is left), an array field takes all the rest
    /// (and is written even when empty). Images beyond what the fields take are not written.
    /// </summary>
    /// <param name="model">The model name.</param>
    /// <param name="input">The <c>input</c> object to add to.</param>
    /// <param name="images">The images (URLs, data URIs or references), in order.</param>
    /// <returns>How many of <paramref name="images"/> were written.</returns>
    public static int WriteImages(string model, JsonObject input, IReadOnlyList<string> images)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(images);
        var next = 0;
        foreach (var field in ImageFieldsOf(model))
        {
            if (field.IsArray)
            {
                input[field.Name] = new JsonArray([.. images.Skip(next).Select(i => (JsonNode?)JsonValue.Create(i))]);
                next = images.Count;
            }
            else if (next < images.Count)
            {
                input[field.Name] = images[next++];
            }
        }

        return next;
    }
}
