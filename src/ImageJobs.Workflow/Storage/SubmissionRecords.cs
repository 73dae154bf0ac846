namespace ImageJobs.Workflow.Storage;

/// <summary>What is known about a job's paid submission: the intent before the call, the task id right after it.</summary>
/// <param name="JobId">The job.</param>
/// <param name="TaskId">The provider's task id, once known.</param>
/// <param name="IntentAt">When the submit was about to be made.</param>
/// <param name="SubmittedAt">When the task id was recorded.</param>
/// <param name="Attempts">How many submits were started for the job.</param>
/// <param name="Uploads">The job's inputs already in DashScope's temporary storage (reused by a retried submit).</param>
/// <param name="Refused">No submit is in flight and none created a task: the last one was answered with an error, or
/// was never sent (the record is kept for its <paramref name="Uploads"/>).</param>
public sealed record SubmissionRecord(
    string JobId, string? TaskId, DateTimeOffset IntentAt, DateTimeOffset? SubmittedAt, int Attempts,
    IReadOnlyList<TemporaryInput>? Uploads = null, bool Refused = false);

/// <summary>One <c>blob:</c> input uploaded to DashScope's temporary storage.</summary>
/// <param name="Field">The input's JSON path, e.g. <c>input.ref_img</c>.</param>
/// <param name="Source">The <c>blob:{container}/{name}</c> reference it came from.</param>
/// <param name="Url">The <c>oss://</c> URL sent to DashScope.</param>
/// <param name="ExpiresAt">When DashScope deletes the file.</param>
public sealed record TemporaryInput(string Field, string Source, string Url, DateTimeOffset ExpiresAt);
