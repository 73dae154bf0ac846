namespace ImageJobs.DashScope;

/// <summary>One image-valued field of a model's <c>input</c>.</summary>
/// <param name="Name">The field name inside <c>input</c>, for example <c>base_image_url</c>.</param>
/// <param name="IsArray">True when the field holds an array of images; false for one image (a URL or data URI string).</param>
/// <param name="IsMask">True for a mask (white = edit, black = keep) rather than a picture to work from.</param>
/// <param name="Required">True when every request of the model must carry it (for an array: at least one image).</param>
/// <param name="MaxCount">The most images the field holds (1 for a single image).</param>
/// <param name="AcceptsDataUri">False where the documentation lists only URLs for the field (wanx-v1's <c>ref_img</c>).</param>
/// <param name="MimeTypes">The image types the field accepts in a data URI.</param>
public sealed record DashScopeImageField(
    string Name,
    bool IsArray,
    bool IsMask,
    bool Required,
    int MaxCount,
    bool AcceptsDataUri,
    IReadOnlyList<string> MimeTypes)
{
    /// <summary>The JSON path of the field, for example <c>input.base_image_url</c>.</summary>
    public string Path => "input." + Name;

    /// <summary>The fewest images the field holds when present: 1 when required, else 0.</summary>
    public int MinCount => Required ? 1 : 0;

    /// <summary>The JSON path of one element of an array field, for example <c>input.images[1]</c>.</summary>
    /// <param name="index">The element's index.</param>
    /// <returns>The path.</returns>
    public string ItemPath(int index) => FormattableString.Invariant($"{Path}[{index}]");

    /// <summary>True when <paramref name="path"/> is this field or one element of it.</summary>
    /// <param name="path">A JSON path such as <c>input.images[0]</c>.</param>
    /// <returns>True for this field.</returns>
    public bool Matches(string? path) =>
        path is not null
        && (path == Path || (IsArray && path.StartsWith(Path + "[", StringComparison.Ordinal)));
}
