namespace ImageJobs.Workflow.Hosting;

/// <summary>How <c>blob:</c> image inputs are handed to DashScope.</summary>
public enum InputResolutionMode
{
    /// <summary>
    /// A read-only SAS URL when the storage is publicly reachable. When it is not (Azurite, loopback, private): an inline
    /// data URI, or <see cref="TemporaryUpload"/> where the model documents no data URIs for the field (wanx-v1
    /// <c>ref_img</c>) or the image is over the 10 MB a data URI may carry.
    /// </summary>
    Auto,

    /// <summary>Always a read-only SAS URL with a short expiry.</summary>
    SasUrl,

    /// <summary>Always an inline <c>data:</c> URI (at most 10 MB per image).</summary>
    DataUri,

    /// <summary>
    /// Always an upload to DashScope's temporary storage, sent as <c>oss://…</c> (valid 48 hours, for the job's model and
    /// the app's key only; documented for the Beijing region). Done in the submit activity and recorded with the
    /// submission intent, so a retried submit does not upload again.
    /// </summary>
    TemporaryUpload,
}

/// <summary>The pipeline's settings, bound from the <c>ImageJobs</c> configuration section.</summary>
public sealed class ImageJobsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "ImageJobs";

    /// <summary>The queue that starts jobs.</summary>
    public const string JobsQueue = "image-jobs";

    /// <summary>Where messages of <see cref="JobsQueue"/> that cannot be processed end up.</summary>
    public const string PoisonQueue = "image-jobs-poison";

    /// <summary>The container whose new blobs start image-edit jobs.</summary>
    public const string UploadsContainer = "uploads";

    /// <summary>The container for the pipeline's own records (submission intents, learned durations). Default <c>imagejobs-state</c>.</summary>
    public string StateContainer { get; set; } = "imagejobs-state";

    /// <summary>The queue every completion event is written to, unless a job names its own. Default <c>image-jobs-completed</c>; empty turns it off.</summary>
    public string CompletionQueue { get; set; } = "image-jobs-completed";

    /// <summary>
    /// The secret webhooks are signed with (Standard Webhooks; <c>whsec_…</c> base64 or any string). Read from
    /// <c>IMAGEJOBS_WEBHOOK_SECRET</c>. Jobs with a webhook are refused while it is not set.
    /// </summary>
    public string? WebhookSecret { get; set; }

    /// <summary>
    /// Containers a job may name in <c>output.container</c> besides <c>results</c>. The state container, the uploads
    /// container and the containers of the task hub and the Functions host are never allowed (see
    /// <see cref="OutputContainerRefusal"/>), even when listed. Default none.
    /// </summary>
    public IList<string> OutputContainers { get; } = [];

    /// <summary>The largest result image accepted. Default 50 MB.</summary>
    public long MaxResultImageBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>How <c>blob:</c> inputs reach DashScope. Default <see cref="InputResolutionMode.Auto"/>.</summary>
    public InputResolutionMode InputMode { get; set; } = InputResolutionMode.Auto;

    /// <summary>How long the SAS URLs of inputs stay valid. Default 1 hour.</summary>
    public TimeSpan InputSasLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long what the app keeps is kept (<c>ImageJobs:Retention</c>).</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Hosts result images may be downloaded from besides DashScope's OSS hosts (e.g. the local emulator's <c>127.0.0.1:8089</c>).</summary>
    public IList<string> ResultHosts { get; } = [];

    /// <summary>
    /// Why results may not be written to <paramref name="container"/>, or <see langword="null"/> when they may: it must
    /// be <c>results</c> or listed in <see cref="OutputContainers"/>, and must not be one of the app's own containers
    /// (<see cref="StateContainer"/>, <see cref="UploadsContainer"/>, whose new blobs start paid jobs, a task hub's
    /// <c>{hub}-instances</c>, <c>-leases</c>, <c>-largemessages</c>, <c>-applease</c>, or the Functions host's <c>azure-webjobs-*</c>).
    /// </summary>
    public string? OutputContainerRefusal(string container)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (container == StateContainer || container == UploadsContainer || container.StartsWith("azure-webjobs-", StringComparison.Ordinal)
            || s_taskHubSuffixes.Any(suffix => container.EndsWith(suffix, StringComparison.Ordinal)))
        {
            return $"'{container}' holds the app's own state or starts jobs; results never go there";
        }

        return container == Jobs.ImageJobParser.DefaultContainer || OutputContainers.Contains(container)
            ? null
            : $"'{container}' is not a results container: use {string.Join(", ", (string[])[Jobs.ImageJobParser.DefaultContainer, .. OutputContainers])} (ImageJobs:OutputContainers)";
    }

    private static readonly string[] s_taskHubSuffixes = ["-instances", "-leases", "-largemessages", "-applease"];

    /// <summary>
    /// Multiplies the documented task durations the poll schedule starts from (until it has learned real ones).
    /// The local host sets it to the emulator's time scale. Default 1.
    /// </summary>
    public double ExpectedDurationScale { get; set; } = 1.0;

    /// <summary>
    /// The length, in seconds, of the window DashScope's per-second limits count over (submit RPS per model, 20 QPS for
    /// task queries). Pacing and the poll schedule's query budget and minimum lag scale with it. 1 for DashScope; the
    /// local host sets it to the emulator's time scale when the emulator runs with <c>ScaleRateWindows</c>. Default 1.
    /// </summary>
    public double RateWindowScale { get; set; } = 1.0;
}
