using System.Globalization;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// Settings of the emulator, bound from the <c>DashScopeEmulator</c> configuration section
/// (<c>DashScopeEmulator__TimeScale=0.05</c>, or <c>--time-scale 0.05</c> on the command line).
/// Durations are service time: the emulator multiplies them by <see cref="TimeScale"/>.
/// </summary>
public sealed class DashScopeEmulatorOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "DashScopeEmulator";

    /// <summary>The accepted API key. Null or empty accepts any non-empty key (a missing key is still 401).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Multiplies every service duration (latency, task and URL lifetime). 1 = real speed; 0.05 = 20× faster.</summary>
    public double TimeScale { get; set; } = 1.0;

    /// <summary>Seed of the random decisions (latency, image seeds, faults). Null picks a random seed.</summary>
    public int? Seed { get; set; }

    /// <summary>Whether the per-model submit RPS, concurrent-task caps and the 20 QPS task-query limit apply.</summary>
    public bool EnableLimits { get; set; } = true;

    /// <summary>Multiplies every limit (RPS, QPS, concurrent tasks; at least 1). Use it to loosen limits in tests.</summary>
    public double LimitScale { get; set; } = 1.0;

    /// <summary>
    /// Whether the RPS and QPS limits count over one second of service time (<c>1 s × TimeScale</c>) instead of one real
    /// second. False (default) keeps them in real seconds, as clients pace them. True keeps a time-scaled run
    /// proportioned like the real service (at 0.01 a 2 RPS limit allows 2 submits per 10 ms), for throughput runs.
    /// </summary>
    public bool ScaleRateWindows { get; set; }

    /// <summary>
    /// What happens over a model's concurrent-task cap: false (default) queues the task as PENDING until a slot frees;
    /// true answers 429 <c>Throttling.RateQuota</c> instead.
    /// </summary>
    public bool RejectOverConcurrency { get; set; }

    /// <summary>How long task ids stay queryable (service time, scaled). DashScope: 24 hours.</summary>
    public TimeSpan TaskTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long result URLs stay valid after the task ends (service time, scaled). Null = <see cref="TaskTtl"/>. The emulator
    /// refuses a download from the exact instant this passes; the URL's <c>Expires</c> names it rounded down to the second.
    /// </summary>
    public TimeSpan? ResultUrlTtl { get; set; }

    /// <summary>How long files in the temporary storage (<c>oss://</c> inputs) stay usable (service time, scaled). DashScope: 48 hours.</summary>
    public TimeSpan UploadTtl { get; set; } = TimeSpan.FromHours(48);

    /// <summary>
    /// How long an upload policy is accepted. DashScope: 300 seconds. Not scaled by the time scale: a client uploads right
    /// after it asks for the policy, so a fast run must not expire one mid-upload.
    /// </summary>
    public TimeSpan UploadPolicyTtl { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>The largest file an upload policy allows, in MB (<c>max_file_size_mb</c>). DashScope: 1024.</summary>
    public int UploadMaxFileSizeMb { get; set; } = 1024;

    /// <summary>Fault: fraction (0–1) of submits answered 500 <c>InternalError</c>.</summary>
    public double SubmitErrorRate { get; set; }

    /// <summary>Fault: fraction (0–1) of submits answered 429 <c>Throttling.RateQuota</c>.</summary>
    public double SubmitThrottleRate { get; set; }

    /// <summary>Fault: fraction (0–1) of accepted tasks that end FAILED with <c>InternalError.Timeout</c>.</summary>
    public double TaskFailureRate { get; set; }

    /// <summary>Fault: fraction (0–1) of images that fail inside an otherwise successful task (partial failure).</summary>
    public double ImageFailureRate { get; set; }

    /// <summary>Fault: a prompt containing this word (case-insensitive) is refused with 400 <c>DataInspectionFailed</c>.</summary>
    public string? DataInspectionTrigger { get; set; }

    /// <summary>Fault: real (unscaled) delay added before every DashScope response.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>
    /// A folder where the emulator keeps its state across restarts, as DashScope keeps tasks for 24 hours (created if
    /// missing; relative to the current folder). Null or empty (default) keeps everything in memory. Set, the emulator
    /// writes each task when it is submitted or canceled and each temporary upload when it is stored (before answering),
    /// and its counters, live upload policies and signing secrets; at start it reads them back. Tasks then answer GET,
    /// the list and cancel as before the restart; result URLs handed out before still verify, and their images are
    /// painted again, identically, from the task; <see cref="DashScopeEmulator"/> listens on the port it had when that
    /// port is free. Tasks past <see cref="TaskTtl"/> and uploads past <see cref="UploadTtl"/> are not read back, and
    /// their records are removed. One emulator at a time: another one started on a folder in use keeps its state in
    /// memory, with a warning.
    /// </summary>
    public string? DataFolder { get; set; }

    /// <summary>The result URL lifetime in service time.</summary>
    internal TimeSpan EffectiveUrlTtl => ResultUrlTtl ?? TaskTtl;

    /// <summary>Returns the problems with these settings, empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(TimeScale > 0) || double.IsInfinity(TimeScale))
        {
            errors.Add($"{SectionName}:TimeScale must be a positive number (got {TimeScale.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (!(LimitScale > 0) || double.IsInfinity(LimitScale))
        {
            errors.Add($"{SectionName}:LimitScale must be a positive number (got {LimitScale.ToString(CultureInfo.InvariantCulture)}).");
        }

        CheckFraction(errors, nameof(SubmitErrorRate), SubmitErrorRate);
        CheckFraction(errors, nameof(SubmitThrottleRate), SubmitThrottleRate);
        CheckFraction(errors, nameof(TaskFailureRate), TaskFailureRate);
        CheckFraction(errors, nameof(ImageFailureRate), ImageFailureRate);
        if (TaskTtl <= TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:TaskTtl must be positive.");
        }

        if (ResultUrlTtl is { } urlTtl && urlTtl <= TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:ResultUrlTtl must be positive.");
        }

        if (UploadTtl <= TimeSpan.Zero || UploadPolicyTtl <= TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:UploadTtl and {SectionName}:UploadPolicyTtl must be positive.");
        }

        if (UploadMaxFileSizeMb <= 0)
        {
            errors.Add($"{SectionName}:UploadMaxFileSizeMb must be positive.");
        }

        if (ResponseDelay < TimeSpan.Zero)
        {
            errors.Add($"{SectionName}:ResponseDelay must not be negative.");
        }

        return errors;
    }

    /// <summary>A copy, so a running emulator never sees later changes to the caller's instance.</summary>
    internal DashScopeEmulatorOptions Clone() => (DashScopeEmulatorOptions)MemberwiseClone();

    private static void CheckFraction(List<string> errors, string name, double value)
    {
        if (!(value >= 0 && value <= 1))
        {
            errors.Add($"{SectionName}:{name} must be between 0 and 1 (got {value.ToString(CultureInfo.InvariantCulture)}).");
        }
    }
}
