using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// The emulator's state on disk (<see cref="DashScopeEmulatorOptions.DataFolder"/>):
/// <code>
/// tasks.jsonl              the task journal: a task's record is appended at its submit and again at its cancel (the last wins)
/// uploads/{sha256}.upload  one temporary upload: a JSON header line, then the file's bytes (written when it is stored)
/// emulator.json            the URL and upload-policy signing secrets, and the port last listened on
/// stats.json               the counters; upload-policies.json the live upload policies (written once a second if changed, and at stop)
/// emulator.lock            held while an emulator uses the folder
/// </code>
/// The journal is only appended to, one line per write, so a submit costs one small write. At start it is read, the
/// records of expired tasks and the lines that do not read (a power cut can tear the last one) are dropped with a
/// warning, and the rest is written anew; while running, it is written anew the same way once expired records outnumber
/// live ones. Every other file, and every rewrite of the journal, is written whole under a temporary name and renamed over
/// its place, so a reader finds the old version or the new one, never part of one. Nothing is flushed to the disk write
/// by write (a submit must stay fast): a killed process loses nothing, a power cut may lose the last writes. A file that
/// does not read back is renamed <c>*.corrupt</c>, kept for a look, and logged as a warning; it never stops a start.
/// </summary>
internal sealed class EmulatorDataFolder : IDisposable
{
    public const string JournalFile = "tasks.jsonl";
    public const string HostFile = "emulator.json";
    public const string StatsFile = "stats.json";
    public const string PoliciesFile = "upload-policies.json";
    public const string LockFile = "emulator.lock";
    public const string UploadsFolder = "uploads";
    public const string UploadExtension = ".upload";
    public const string CorruptExtension = ".corrupt";
    private const string TempExtension = ".tmp";

    /// <summary>Journal records beyond twice the live tasks, and this many more, make a running emulator rewrite the journal.</summary>
    private const int CompactionSlack = 1000;

    private readonly ILogger _logger;
    private readonly FileStream _lock;
    private readonly Lock _journalLock = new();
    private readonly List<string> _skipped = [];
    private FileStream? _journal;
    private int _journalRecords;
    private long _tempCounter;

    private EmulatorDataFolder(string fullPath, FileStream folderLock, ILogger logger)
    {
        FullPath = fullPath;
        _lock = folderLock;
        _logger = logger;
        foreach (var folder in new[] { FullPath, UploadsPath })
        {
            foreach (var temp in Directory.EnumerateFiles(folder, "*" + TempExtension))
            {
                TryDelete(temp); // left by a stop in the middle of a write
            }
        }
    }

    /// <summary>
    /// Opens (creating it if needed) the folder at <paramref name="path"/> for this emulator alone; null when another
    /// emulator holds it (that is logged: this one then keeps its state in memory).
    /// </summary>
    public static EmulatorDataFolder? TryOpen(string path, ILogger logger)
    {
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.Combine(fullPath, UploadsFolder));
        FileStream folderLock;
        try
        {
            folderLock = new FileStream(Path.Combine(fullPath, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            Log.FolderInUse(logger, fullPath);
            return null;
        }

        return new EmulatorDataFolder(fullPath, folderLock, logger);
    }

    /// <summary>The folder's full path.</summary>
    public string FullPath { get; }

    /// <summary>The files skipped while reading, each as <c>{path}: {reason}</c>.</summary>
    public IReadOnlyList<string> Skipped => _skipped;

    private string JournalPath => Path.Combine(FullPath, JournalFile);

    private string UploadsPath => Path.Combine(FullPath, UploadsFolder);

    /// <summary>The port recorded in <paramref name="folder"/>, or null (no folder, no record, or a record that does not read).</summary>
    public static int? RecordedPort(string folder)
    {
        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(folder, HostFile)), DataFolderJson.Default.HostRecord);
            return record?.Port is > 0 and <= 65535 ? record.Port : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null; // the start reads the file again, and reports what is wrong with it
        }
    }

    /// <summary>Reads <c>emulator.json</c>; without a readable one, makes new secrets and writes them.</summary>
    public HostRecord LoadHost()
    {
        var path = Path.Combine(FullPath, HostFile);
        if (File.Exists(path) && Read(path, DataFolderJson.Default.HostRecord) is { } host)
        {
            try
            {
                if (host.Version == 1 && Convert.FromBase64String(host.ResultUrlSecret).Length == 32
                    && Convert.FromBase64String(host.UploadSecret).Length == 32)
                {
                    return host;
                }
            }
            catch (FormatException)
            {
            }

            SetAside(path, "its secrets do not read; result URLs and upload policies from before the restart will not verify");
        }

        host = new HostRecord(1, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), null);
        Write(path, JsonSerializer.SerializeToUtf8Bytes(host, DataFolderJson.Default.HostRecord));
        return host;
    }

    /// <summary>Records the port the emulator listens on, for its next start.</summary>
    public void RecordPort(HostRecord host, int port) =>
        TryWrite(Path.Combine(FullPath, HostFile), JsonSerializer.SerializeToUtf8Bytes(host with { Port = port }, DataFolderJson.Default.HostRecord));

    /// <summary>Appends a task's record as it is now: one write, after the serialization.</summary>
    public void SaveTask(EmulatorTask task)
    {
        var line = Line(TaskRecord.From(task));
        lock (_journalLock)
        {
            try
            {
                _journal?.Write(line);
                _journalRecords++;
            }
            catch (IOException e)
            {
                Log.WriteFailed(_logger, JournalPath, e.Message);
            }
        }
    }

    /// <summary>
    /// Reads the journal and writes it anew with only the live tasks. A task's canceled record wins over its submitted
    /// one, whatever their order (a task only ever goes from one to the other). Records of
    /// tasks <paramref name="isExpired"/> says are past their TTL are dropped (<paramref name="expired"/> counts those
    /// tasks), and lines that do not read are skipped. Then opens the journal for <see cref="SaveTask"/>.
    /// </summary>
    public List<TaskRecord> LoadTasks(Func<TaskRecord, bool> isExpired, out int expired)
    {
        var records = new Dictionary<string, TaskRecord>(StringComparer.Ordinal);
        var unreadable = new List<(int Number, string Problem)>();
        if (File.Exists(JournalPath))
        {
            var number = 0;
            foreach (var line in File.ReadLines(JournalPath))
            {
                number++;
                if (line.Length == 0)
                {
                    continue;
                }

                try
                {
                    var record = JsonSerializer.Deserialize(line, DataFolderJson.Default.TaskRecord);
                    if ((record is null ? "the line holds null" : record.Problem()) is { } problem)
                    {
                        unreadable.Add((number, problem));
                    }
                    else if (!records.TryGetValue(record!.Id, out var earlier) || record.CancelSequence >= earlier.CancelSequence)
                    {
                        records[record.Id] = record;
                    }
                }
                catch (JsonException e)
                {
                    unreadable.Add((number, e.Message));
                }
            }

            if (unreadable.Count > 0)
            {
                File.Copy(JournalPath, JournalPath + CorruptExtension, overwrite: true);
            }

            foreach (var (lineNumber, problem) in unreadable)
            {
                Skip(string.Create(CultureInfo.InvariantCulture, $"{JournalPath} line {lineNumber}"),
                    $"{problem} (the journal as it was is kept as {JournalFile}{CorruptExtension})");
            }
        }

        var live = records.Values.Where(r => !isExpired(r)).ToList();
        expired = records.Count - live.Count;
        Write(JournalPath, [.. live.SelectMany(Line)]);
        OpenJournal(live.Count);
        return live;
    }

    /// <summary>
    /// Writes the journal anew with the records of <paramref name="live"/> when expired records (or superseded ones)
    /// outnumber them; called by the store, under its lock, after it purged expired tasks.
    /// </summary>
    public void CompactIfWorthIt(IReadOnlyCollection<EmulatorTask> live)
    {
        lock (_journalLock)
        {
            if (_journal is null || _journalRecords <= (2 * live.Count) + CompactionSlack)
            {
                return;
            }

            try
            {
                _journal.Dispose();
                Write(JournalPath, [.. live.SelectMany(t => Line(TaskRecord.From(t)))]);
            }
            catch (IOException e)
            {
                Log.WriteFailed(_logger, JournalPath, e.Message);
            }

            OpenJournal(live.Count);
        }
    }

    /// <summary>Writes a stored upload: its header line, then its bytes.</summary>
    public void SaveUpload(StoredUpload upload)
    {
        var header = new UploadHeader(1, upload.Key, upload.ContentType, upload.Model, upload.Account, upload.UploadedAt, upload.Content.Length);
        var line = JsonSerializer.SerializeToUtf8Bytes(header, DataFolderJson.Default.UploadHeader);
        var bytes = new byte[line.Length + 1 + upload.Content.Length];
        line.CopyTo(bytes, 0);
        bytes[line.Length] = (byte)'\n';
        upload.Content.CopyTo(bytes, line.Length + 1);
        TryWrite(UploadPath(upload.Key), bytes);
    }

    /// <summary>Reads every upload; expired ones are removed (<paramref name="expired"/> counts them), unreadable ones skipped.</summary>
    public List<StoredUpload> LoadUploads(Func<StoredUpload, bool> isExpired, out int expired)
    {
        var uploads = new List<StoredUpload>();
        expired = 0;
        foreach (var path in Directory.EnumerateFiles(UploadsPath, "*" + UploadExtension))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Skip(path, e.Message);
                continue;
            }

            var end = Array.IndexOf(bytes, (byte)'\n');
            UploadHeader? header = null;
            try
            {
                header = end < 0 ? null : JsonSerializer.Deserialize(bytes.AsSpan(0, end), DataFolderJson.Default.UploadHeader);
            }
            catch (JsonException)
            {
            }

            if (header is null || header.Version != 1 || header.Length != bytes.Length - end - 1 || UploadPath(header.Key) != path)
            {
                SetAside(path, "its header does not read, or does not match its bytes");
                continue;
            }

            var upload = new StoredUpload(header.Key, bytes[(end + 1)..], header.ContentType, header.Model, header.Account, header.UploadedAt);
            if (isExpired(upload))
            {
                TryDelete(path);
                expired++;
            }
            else
            {
                uploads.Add(upload);
            }
        }

        return uploads;
    }

    /// <summary>Writes the counters.</summary>
    public void SaveStats(EmulatorStatsSnapshot stats) =>
        TryWrite(Path.Combine(FullPath, StatsFile), JsonSerializer.SerializeToUtf8Bytes(stats, DataFolderJson.Default.EmulatorStatsSnapshot));

    /// <summary>The counters last written, or null.</summary>
    public EmulatorStatsSnapshot? LoadStats() => ReadIfPresent(Path.Combine(FullPath, StatsFile), DataFolderJson.Default.EmulatorStatsSnapshot);

    /// <summary>Writes the live upload policies.</summary>
    public void SavePolicies(PolicyRecord[] policies) =>
        TryWrite(Path.Combine(FullPath, PoliciesFile), JsonSerializer.SerializeToUtf8Bytes(policies, DataFolderJson.Default.PolicyRecordArray));

    /// <summary>The upload policies last written (empty when none).</summary>
    public PolicyRecord[] LoadPolicies() => ReadIfPresent(Path.Combine(FullPath, PoliciesFile), DataFolderJson.Default.PolicyRecordArray) ?? [];

    /// <summary>Closes the journal and releases the folder for the next emulator.</summary>
    public void Dispose()
    {
        lock (_journalLock)
        {
            _journal?.Dispose();
            _journal = null;
        }

        _lock.Dispose();
    }

    /// <summary>A task's journal line: its JSON (which holds no raw line break) and a line feed.</summary>
    private static byte[] Line(TaskRecord record)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(record, DataFolderJson.Default.TaskRecord);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    private void OpenJournal(int records)
    {
        try
        {
            // Unbuffered: each record is one write, in the operating system's hands before the submit is answered.
            _journal = new FileStream(JournalPath, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
            _journalRecords = records;
        }
        catch (IOException e)
        {
            Log.WriteFailed(_logger, JournalPath, e.Message);
        }
    }

    private string UploadPath(string key) =>
        Path.Combine(UploadsPath, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))) + UploadExtension);

    private T? ReadIfPresent<T>(string path, JsonTypeInfo<T> type)
        where T : class => File.Exists(path) ? Read(path, type) : null;

    /// <summary>Reads one JSON file; a file that does not parse is set aside, one that cannot be read is skipped.</summary>
    private T? Read<T>(string path, JsonTypeInfo<T> type)
        where T : class
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Skip(path, e.Message);
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, type) ?? throw new JsonException("The file holds null.");
        }
        catch (JsonException e)
        {
            SetAside(path, bytes.Length == 0 ? "it is empty" : e.Message);
            return null;
        }
    }

    /// <summary>Writes to a temporary file beside <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    private void Write(string path, byte[] bytes)
    {
        var temp = string.Create(CultureInfo.InvariantCulture, $"{path}.{Environment.ProcessId}-{Interlocked.Increment(ref _tempCounter)}{TempExtension}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                stream.Write(bytes);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes, or logs why it could not: the emulator goes on with the state it holds in memory.</summary>
    private void TryWrite(string path, byte[] bytes)
    {
        try
        {
            Write(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.WriteFailed(_logger, path, e.Message);
        }
    }

    private void Skip(string path, string reason)
    {
        _skipped.Add($"{path}: {reason}");
        Log.FileSkipped(_logger, path, reason);
    }

    /// <summary>Skips a file that does not read back, and renames it so later starts do not read it again.</summary>
    private void SetAside(string path, string reason)
    {
        try
        {
            File.Move(path, path + CorruptExtension, overwrite: true);
            Skip(path, reason + $" (kept as {Path.GetFileName(path)}{CorruptExtension})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Skip(path, reason);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next start to remove.
        }
    }
}
