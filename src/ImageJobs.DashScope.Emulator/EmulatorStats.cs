using System.Collections.Concurrent;
using System.Text.Json.Serialization;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// What the emulator has been asked to do, for tests and crash tests: the same numbers as <c>GET /emulator/stats</c>.
/// </summary>
public sealed class EmulatorStats
{
    /// <summary>Throttle kind: the per-model submit RPS limit.</summary>
    public const string SubmitRps = "submit_rps";

    /// <summary>Throttle kind: the concurrent-task cap when it is set to answer 429.</summary>
    public const string Concurrency = "concurrency";

    /// <summary>Throttle kind: the account-wide task query QPS limit.</summary>
    public const string QueryQps = "query_qps";

    /// <summary>Throttle kind: the 100 QPS upload-policy limit per account and model.</summary>
    public const string PolicyQps = "policy_qps";

    /// <summary>Throttle kind: a 429 injected by <see cref="DashScopeEmulatorOptions.SubmitThrottleRate"/>.</summary>
    public const string Injected = "injected";

    private readonly ConcurrentDictionary<string, int> _submissionsByModel = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _acceptedByModel = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _queriesByTask = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private int _submissions;
    private int _accepted;
    private int _queries;
    private int _cancelRequests;
    private int _canceled;
    private int _imagesServed;
    private int _syncCalls;
    private int _injectedErrors;
    private int _listCalls;
    private int _uploadPolicies;
    private int _filesUploaded;
    private int _ossInputsResolved;

    /// <summary>A consistent-enough copy of every counter.</summary>
    public EmulatorStatsSnapshot Snapshot() => new(
        Submissions: Volatile.Read(ref _submissions),
        Accepted: Volatile.Read(ref _accepted),
        SubmissionsByModel: Copy(_submissionsByModel),
        AcceptedByModel: Copy(_acceptedByModel),
        SyncCalls: Volatile.Read(ref _syncCalls),
        Queries: Volatile.Read(ref _queries),
        QueriesByTask: Copy(_queriesByTask),
        ListCalls: Volatile.Read(ref _listCalls),
        CancelRequests: Volatile.Read(ref _cancelRequests),
        Canceled: Volatile.Read(ref _canceled),
        Throttled: _throttled.Values.Sum(),
        ThrottledByKind: Copy(_throttled),
        InjectedErrors: Volatile.Read(ref _injectedErrors),
        ImagesServed: Volatile.Read(ref _imagesServed),
        UploadPolicies: Volatile.Read(ref _uploadPolicies),
        FilesUploaded: Volatile.Read(ref _filesUploaded),
        OssInputsResolved: Volatile.Read(ref _ossInputsResolved));

    /// <summary>
    /// A number that grows with every count (the sum of the counters): a writer compares it with the one it last wrote
    /// instead of copying every counter.
    /// </summary>
    internal long Version() =>
        (long)Volatile.Read(ref _submissions) + Volatile.Read(ref _accepted) + Volatile.Read(ref _queries) + Volatile.Read(ref _listCalls)
        + Volatile.Read(ref _cancelRequests) + Volatile.Read(ref _imagesServed) + Volatile.Read(ref _syncCalls)
        + Volatile.Read(ref _injectedErrors) + Volatile.Read(ref _uploadPolicies) + Volatile.Read(ref _filesUploaded)
        + Volatile.Read(ref _ossInputsResolved) + _throttled.Values.Sum();

    /// <summary>
    /// Starts from counters written by an earlier run (before the first request). <c>queries_by_task</c> keeps only the
    /// tasks in <paramref name="knownTasks"/>: the counts of tasks that expired go with them, so the file stays small.
    /// </summary>
    internal void Restore(EmulatorStatsSnapshot saved, IReadOnlySet<string> knownTasks)
    {
        _submissions = saved.Submissions;
        _accepted = saved.Accepted;
        _syncCalls = saved.SyncCalls;
        _queries = saved.Queries;
        _listCalls = saved.ListCalls;
        _cancelRequests = saved.CancelRequests;
        _canceled = saved.Canceled;
        _injectedErrors = saved.InjectedErrors;
        _imagesServed = saved.ImagesServed;
        _uploadPolicies = saved.UploadPolicies;
        _filesUploaded = saved.FilesUploaded;
        _ossInputsResolved = saved.OssInputsResolved;
        Fill(_submissionsByModel, saved.SubmissionsByModel);
        Fill(_acceptedByModel, saved.AcceptedByModel);
        Fill(_throttled, saved.ThrottledByKind);
        Fill(_queriesByTask, saved.QueriesByTask.Where(p => knownTasks.Contains(p.Key)));
    }

    internal void Submitted(string model)
    {
        Interlocked.Increment(ref _submissions);
        _submissionsByModel.AddOrUpdate(model, 1, (_, n) => n + 1);
    }

    internal void Accepted(string model)
    {
        Interlocked.Increment(ref _accepted);
        _acceptedByModel.AddOrUpdate(model, 1, (_, n) => n + 1);
    }

    internal void SyncCall() => Interlocked.Increment(ref _syncCalls);

    internal void Queried(string taskId)
    {
        Interlocked.Increment(ref _queries);
        _queriesByTask.AddOrUpdate(taskId, 1, (_, n) => n + 1);
    }

    internal void Listed() => Interlocked.Increment(ref _listCalls);

    internal void CancelRequested(bool canceled)
    {
        Interlocked.Increment(ref _cancelRequests);
        if (canceled)
        {
            Interlocked.Increment(ref _canceled);
        }
    }

    internal void Throttled(string kind) => _throttled.AddOrUpdate(kind, 1, (_, n) => n + 1);

    internal void InjectedError() => Interlocked.Increment(ref _injectedErrors);

    internal void ImageServed() => Interlocked.Increment(ref _imagesServed);

    internal void PolicyIssued() => Interlocked.Increment(ref _uploadPolicies);

    internal void FileUploaded() => Interlocked.Increment(ref _filesUploaded);

    internal void OssInputResolved() => Interlocked.Increment(ref _ossInputsResolved);

    private static void Fill(ConcurrentDictionary<string, int> target, IEnumerable<KeyValuePair<string, int>> source)
    {
        foreach (var (key, value) in source)
        {
            target[key] = value;
        }
    }

    private static Dictionary<string, int> Copy(ConcurrentDictionary<string, int> source) =>
        source.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}

/// <summary>The emulator's counters at one moment (served as snake_case JSON by <c>GET /emulator/stats</c>).</summary>
/// <param name="Submissions">Submit requests that passed authentication and named a known model (async and sync).</param>
/// <param name="Accepted">Async tasks created (submit answered 200).</param>
/// <param name="SubmissionsByModel"><paramref name="Submissions"/> per model name.</param>
/// <param name="AcceptedByModel"><paramref name="Accepted"/> per model name.</param>
/// <param name="SyncCalls">Sync multimodal-generation calls that produced an image.</param>
/// <param name="Queries">Task queries (<c>GET /tasks/{id}</c>) that were not throttled.</param>
/// <param name="QueriesByTask">Task queries per task id.</param>
/// <param name="ListCalls">Task list calls (<c>GET /tasks</c>) that were not throttled.</param>
/// <param name="CancelRequests">Cancel requests.</param>
/// <param name="Canceled">Cancel requests that canceled a PENDING task.</param>
/// <param name="Throttled">Requests answered 429, all kinds.</param>
/// <param name="ThrottledByKind">429s by kind: submit_rps, concurrency, query_qps, policy_qps, injected.</param>
/// <param name="InjectedErrors">Submits answered 500 by fault injection.</param>
/// <param name="ImagesServed">Result images downloaded successfully.</param>
/// <param name="UploadPolicies">Upload policies issued (<c>GET /uploads?action=getPolicy</c>).</param>
/// <param name="FilesUploaded">Files accepted by the temporary storage's upload host.</param>
/// <param name="OssInputsResolved"><c>oss://</c> inputs of submits (sent with the resolve header) read from the temporary storage.</param>
public sealed record EmulatorStatsSnapshot(
    [property: JsonPropertyName("submissions")] int Submissions,
    [property: JsonPropertyName("accepted")] int Accepted,
    [property: JsonPropertyName("submissions_by_model")] IReadOnlyDictionary<string, int> SubmissionsByModel,
    [property: JsonPropertyName("accepted_by_model")] IReadOnlyDictionary<string, int> AcceptedByModel,
    [property: JsonPropertyName("sync_calls")] int SyncCalls,
    [property: JsonPropertyName("queries")] int Queries,
    [property: JsonPropertyName("queries_by_task")] IReadOnlyDictionary<string, int> QueriesByTask,
    [property: JsonPropertyName("list_calls")] int ListCalls,
    [property: JsonPropertyName("cancel_requests")] int CancelRequests,
    [property: JsonPropertyName("canceled")] int Canceled,
    [property: JsonPropertyName("throttled")] int Throttled,
    [property: JsonPropertyName("throttled_by_kind")] IReadOnlyDictionary<string, int> ThrottledByKind,
    [property: JsonPropertyName("injected_errors")] int InjectedErrors,
    [property: JsonPropertyName("images_served")] int ImagesServed,
    [property: JsonPropertyName("upload_policies")] int UploadPolicies,
    [property: JsonPropertyName("files_uploaded")] int FilesUploaded,
    [property: JsonPropertyName("oss_inputs_resolved")] int OssInputsResolved);
