using System.Text.Json.Serialization;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// One task as written to the data folder: what was decided at submit, and the cancel if there was one. Its schedule is
/// not written: the store replays submits and cancels in <see cref="Sequence"/> order and so gives each queued task the
/// slot, and the times, it had.
/// </summary>
internal sealed record TaskRecord(
    int Version,
    string Id,
    string RequestId,
    string Model,
    string Prompt,
    string? ActualPrompt,
    int N,
    int Width,
    int Height,
    int? Seed,
    bool PromptExtend,
    ErrorRecord? DeferredFailure,
    DateTimeOffset SubmitTime,
    TimeSpan RunDuration,
    ErrorRecord? Failure,
    ErrorRecord?[] ImageFailures,
    int BaseSeed,
    bool IsSync,
    long Sequence,
    DateTimeOffset? CanceledTime,
    long CancelSequence)
{
    /// <summary>The format written now; a file of another version is skipped.</summary>
    public const int CurrentVersion = 1;

    public static TaskRecord From(EmulatorTask task) => new(
        CurrentVersion, task.Id, task.RequestId, task.Model.Name, task.Plan.Prompt, task.Plan.ActualPrompt, task.Plan.N,
        task.Plan.Width, task.Plan.Height, task.Plan.Seed, task.Plan.PromptExtend, ErrorRecord.From(task.Plan.DeferredFailure),
        task.SubmitTime, task.RunDuration, ErrorRecord.From(task.Failure), [.. task.ImageFailures.Select(ErrorRecord.From)],
        task.BaseSeed, task.IsSync, task.Sequence, task.CanceledTime, task.CancelSequence);

    /// <summary>Why this record cannot be a task, or null when it can.</summary>
    public string? Problem()
    {
        if (Version != CurrentVersion)
        {
            return $"format version {Version}, not {CurrentVersion}";
        }

        if (string.IsNullOrEmpty(Id))
        {
            return "no task id";
        }

        if (ModelRules.Find(Model) is null)
        {
            return $"unknown model '{Model}'";
        }

        if (N is < 1 or > 4 || ImageFailures.Length != N || Width <= 0 || Height <= 0 || RunDuration < TimeSpan.Zero || Sequence <= 0)
        {
            return "inconsistent fields";
        }

        return CanceledTime is not null && CancelSequence <= Sequence ? "a cancel that precedes its submit" : null;
    }

    /// <summary>The task as it was submitted; <see cref="CanceledTime"/> is left for the store's replay to apply.</summary>
    public EmulatorTask ToTask()
    {
        var plan = new TaskPlan(Prompt, ActualPrompt, N, Width, Height, Seed, PromptExtend, DeferredFailure?.ToError());
        return new EmulatorTask(Id, RequestId, ModelRules.Find(Model)!, plan, SubmitTime, RunDuration, Failure?.ToError(),
            [.. ImageFailures.Select(f => f?.ToError())], BaseSeed, IsSync)
        {
            Sequence = Sequence,
            CancelSequence = CancelSequence,
        };
    }
}

/// <summary>A DashScope error inside a <see cref="TaskRecord"/>.</summary>
internal sealed record ErrorRecord(int Status, string Code, string Message)
{
    public static ErrorRecord? From(DashScopeError? error) => error is null ? null : new(error.Status, error.Code, error.Message);

    public DashScopeError ToError() => new(Status, Code, Message);
}

/// <summary>The first line of an upload's file; the file's bytes follow it.</summary>
internal sealed record UploadHeader(int Version, string Key, string? ContentType, string Model, string Account, DateTimeOffset UploadedAt, long Length);

/// <summary>An upload policy's directory, bound to the model and account it was issued for, until the policy expires.</summary>
internal sealed record PolicyRecord(string Directory, string Model, string Account, DateTimeOffset ExpiresAt);

/// <summary>
/// <c>emulator.json</c>: the secrets that sign result URLs and upload policies (so both stay valid across a restart) and
/// the port an emulator started by <see cref="DashScopeEmulator"/> last listened on.
/// </summary>
internal sealed record HostRecord(int Version, string ResultUrlSecret, string UploadSecret, int? Port);

/// <summary>The data folder's JSON: compact, snake_case, and strict about required fields.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(TaskRecord))]
[JsonSerializable(typeof(UploadHeader))]
[JsonSerializable(typeof(PolicyRecord[]))]
[JsonSerializable(typeof(HostRecord))]
[JsonSerializable(typeof(EmulatorStatsSnapshot))]
internal sealed partial class DataFolderJson : JsonSerializerContext;
