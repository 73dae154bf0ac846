namespace ImageJobs.DashScope;

/// <summary>The documented facts about one model: family, endpoint, typical latency, limits, defaults, image fields.
/// Every profile is listed in <see cref="DashScopeModelCatalog"/>.</summary>
/// <param name="Model">The model name sent in <c>model</c>.</param>
/// <param name="Family">The request shape it shares with other models.</param>
/// <param name="Kind">The image-synthesis endpoint it uses.</param>
/// <param name="TypicalLatencyMin">Lower end of the documented typical task duration.</param>
/// <param name="TypicalLatencyMax">Upper end of the documented typical task duration.</param>
/// <param name="SubmitRequestsPerSecond">Documented submit rate limit (per account, shared with RAM sub-accounts).</param>
/// <param name="MaxConcurrentTasks">Documented number of tasks processed at once per account.</param>
/// <param name="DefaultImageCount">The service's default for <c>parameters.n</c> (billing is per image).</param>
/// <param name="MaxImageCount">The largest allowed <c>parameters.n</c>.</param>
/// <param name="BeijingOnly">True when the model exists only in the Beijing region.</param>
/// <param name="SupportsSyncCall">True when the synchronous multimodal-generation call is available (qwen-image).</param>
/// <param name="ImageFields">The image-valued fields of its <c>input</c>, in the order images are given (empty for
/// text-only models).</param>
public sealed record DashScopeModelProfile(
    string Model,
    DashScopeModelFamily Family,
    DashScopeTaskKind Kind,
    TimeSpan TypicalLatencyMin,
    TimeSpan TypicalLatencyMax,
    int SubmitRequestsPerSecond,
    int MaxConcurrentTasks,
    int DefaultImageCount,
    int MaxImageCount,
    bool BeijingOnly,
    bool SupportsSyncCall,
    IReadOnlyList<DashScopeImageField> ImageFields)
{
    /// <summary>The most input images a request of this model carries (the sum over <see cref="ImageFields"/>).</summary>
    public int MaxInputImages => ImageFields.Sum(f => f.MaxCount);
}
