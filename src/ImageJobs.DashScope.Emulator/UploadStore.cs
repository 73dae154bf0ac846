using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImageJobs.DashScope.Emulator;

/// <summary>An OSS-style error (<c>&lt;Error&gt;&lt;Code&gt;…</c>) of the temporary storage, with its HTTP status.</summary>
internal sealed record OssError(int Status, string Code, string Message);

/// <summary>A file in the temporary storage, bound to the model and account its policy was issued for.</summary>
internal sealed record StoredUpload(string Key, byte[] Content, string? ContentType, string Model, string Account, DateTimeOffset UploadedAt);

/// <summary>The signed form fields of one upload policy.</summary>
internal sealed record IssuedPolicy(string Policy, string Signature, string UploadDirectory, DateTimeOffset ExpiresAt);

/// <summary>
/// DashScope's temporary storage: it issues signed upload policies (an OSS POST policy: expiry, key prefix, size range,
/// ACL and overwrite conditions, signed with HMAC-SHA256 under a per-emulator secret), checks posted forms against them
/// the way OSS does, keeps the files, and resolves <c>oss://</c> keys for submits. With a data folder, each stored
/// file is written there before the upload is answered.
/// </summary>
internal sealed class UploadStore(byte[]? secret = null, EmulatorDataFolder? data = null)
{
    /// <summary>The access key id shown in policies (not a secret; OSS shows it too).</summary>
    public const string AccessKeyId = "LTAI5tEmulatorUploads";

    /// <summary>The bucket name, as in the real upload host.</summary>
    public const string Bucket = "dashscope-file-mgr";

    /// <summary>The ACL the policies require.</summary>
    public const string ObjectAcl = "private";

    private readonly byte[] _secret = secret ?? RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, PolicyRecord> _directories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoredUpload> _files = new(StringComparer.Ordinal);
    private int _policiesIssued;

    /// <summary>Counts the policies issued, so a writer can tell whether <see cref="LivePolicies"/> changed.</summary>
    public int PoliciesIssued => Volatile.Read(ref _policiesIssued);

    /// <summary>The account an API key belongs to: a short hash, so the key itself is never kept.</summary>
    public static string Account(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)), 0, 8);

    /// <summary>Issues a policy for files of <paramref name="model"/> under a fresh directory of the account.</summary>
    public IssuedPolicy Issue(string model, string account, DateTimeOffset now, DateTimeOffset expiresAt, long maxBytes)
    {
        var directory = string.Create(CultureInfo.InvariantCulture, $"dashscope-instant/{account}/{now:yyyy-MM-dd}/{Guid.NewGuid():N}");
        _directories[directory] = new PolicyRecord(directory, model, account, expiresAt);
        Interlocked.Increment(ref _policiesIssued);
        var document = new JsonObject
        {
            ["expiration"] = expiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["conditions"] = new JsonArray(
                new JsonObject { ["bucket"] = Bucket },
                new JsonArray("content-length-range", 0, maxBytes),
                new JsonArray("starts-with", "$key", directory + "/"),
                new JsonObject { ["x-oss-object-acl"] = ObjectAcl },
                new JsonObject { ["x-oss-forbid-overwrite"] = "true" }),
        };
        var policy = Convert.ToBase64String(Encoding.UTF8.GetBytes(document.ToJsonString()));
        return new IssuedPolicy(policy, Sign(policy), directory, expiresAt);
    }

    /// <summary>Checks a posted form against its policy and stores the file; null on success, else the OSS error.</summary>
    public OssError? Accept(Func<string, string?> field, byte[]? file, DateTimeOffset now)
    {
        string? accessKeyId = field("OSSAccessKeyId"), policy = field("policy"), signature = field("Signature"), key = field("key");
        if (string.IsNullOrEmpty(accessKeyId) || string.IsNullOrEmpty(policy) || string.IsNullOrEmpty(signature))
        {
            return new OssError(400, "InvalidArgument", "Form field OSSAccessKeyId, Signature and policy must all be present.");
        }

        if (accessKeyId != AccessKeyId)
        {
            return new OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(policy)), Encoding.ASCII.GetBytes(signature)))
        {
            return new OssError(403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
        }

        // The signature holds, so the document is one this emulator wrote.
        var document = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(policy)))!.AsObject();
        var expiration = DateTimeOffset.Parse(document["expiration"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        if (now > expiration)
        {
            return new OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.");
        }

        if (file is null)
        {
            return new OssError(400, "InvalidArgument", "The form has no file field (it must be the last field).");
        }

        if (string.IsNullOrEmpty(key))
        {
            return new OssError(400, "InvalidArgument", "The form has no key field.");
        }

        long maxBytes = long.MaxValue;
        var forbidOverwrite = false;
        foreach (var condition in document["conditions"]!.AsArray())
        {
            if (condition is JsonArray { Count: 3 } rule && rule[0]!.GetValue<string>() == "starts-with")
            {
                var prefix = rule[2]!.GetValue<string>();
                if (!key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return new OssError(403, "AccessDenied", $"Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"{prefix}\"]");
                }
            }
            else if (condition is JsonArray { Count: 3 } range && range[0]!.GetValue<string>() == "content-length-range")
            {
                maxBytes = range[2]!.GetValue<long>();
            }
            else if (condition is JsonObject { Count: 1 } exact && exact.First() is var (name, value) && name != "bucket")
            {
                var expected = value!.GetValue<string>();
                if (field(name) != expected)
                {
                    return new OssError(403, "AccessDenied", $"Invalid according to Policy: Policy Condition failed: [\"eq\", \"${name}\", \"{expected}\"]");
                }

                forbidOverwrite |= name == "x-oss-forbid-overwrite" && expected == "true";
            }
        }

        if (file.Length > maxBytes)
        {
            return new OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
        }

        var directory = key[..Math.Max(0, key.LastIndexOf('/'))];
        var (model, account) = _directories.TryGetValue(directory, out var owner) ? (owner.Model, owner.Account) : (string.Empty, string.Empty);
        var upload = new StoredUpload(key, file, field("x-oss-content-type"), model, account, now);
        if (!forbidOverwrite)
        {
            _files[key] = upload;
        }
        else if (!_files.TryAdd(key, upload))
        {
            return new OssError(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.");
        }

        data?.SaveUpload(upload);
        return null;
    }

    /// <summary>The file stored under a key, if any.</summary>
    public StoredUpload? Find(string key) => _files.GetValueOrDefault(key);

    /// <summary>The policies an upload may still be posted with at <paramref name="now"/>.</summary>
    public PolicyRecord[] LivePolicies(DateTimeOffset now) => [.. _directories.Values.Where(p => p.ExpiresAt >= now)];

    /// <summary>Puts back the files and policies read from the data folder (before the first request).</summary>
    public void Restore(IEnumerable<StoredUpload> files, IEnumerable<PolicyRecord> policies)
    {
        foreach (var file in files)
        {
            _files[file.Key] = file;
        }

        foreach (var policy in policies)
        {
            _directories[policy.Directory] = policy;
        }
    }

    private string Sign(string policy) => Convert.ToBase64String(HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(policy)));
}

/// <summary>
/// Resolves the <c>oss://</c> inputs of one submit (made with <c>X-DashScope-OssResourceResolve: enable</c>): the file
/// must exist, belong to the submit's model and account, and be younger than the upload lifetime.
/// </summary>
internal sealed class OssInputs(UploadStore store, EmulatorStats stats, string model, string account, DateTimeOffset now, TimeSpan lifetime)
{
    /// <summary>The scheme of temporary-storage inputs.</summary>
    public const string Scheme = "oss://";

    /// <summary>The stored bytes and media type for an <c>oss://</c> input; throws the submit's 400 otherwise.</summary>
    public (byte[] Content, string? ContentType) Resolve(string url, string field)
    {
        var file = store.Find(url[Scheme.Length..]);
        if (file is null || file.Account != account)
        {
            throw new DashScopeError(400, "BadRequest.InputDownloadFailed", $"Failed to download the input file: {field} {url} does not exist.");
        }

        if (now - file.UploadedAt > lifetime)
        {
            throw new DashScopeError(400, "BadRequest.InputDownloadFailed",
                $"Failed to download the input file: {field} {url} has expired (temporary files are deleted 48 hours after their upload).");
        }

        if (file.Model != model)
        {
            throw new DashScopeError(400, "BadRequest.InputDownloadFailed",
                $"Failed to download the input file: {field} {url} was uploaded for {file.Model}, not {model}; temporary files serve only their own model.");
        }

        stats.OssInputResolved();
        return (file.Content, file.ContentType);
    }
}
