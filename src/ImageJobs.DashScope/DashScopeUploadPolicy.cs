namespace ImageJobs.DashScope;

/// <summary>
/// An upload policy for DashScope's temporary storage (<c>GET uploads?action=getPolicy&amp;model=…</c>): the signed
/// form fields that let one POST put a file under <see cref="UploadDirectory"/> on <see cref="UploadHost"/> until
/// <see cref="ExpiresAt"/>. One policy serves every file of one request. <see cref="Policy"/> and
/// <see cref="Signature"/> are credentials: <see cref="ToString"/> never shows them, and neither is logged.
/// </summary>
public sealed class DashScopeUploadPolicy
{
    /// <summary>Creates a policy (the client parses it from the service's answer; tests build their own).</summary>
    /// <param name="model">The model the uploaded files are bound to.</param>
    /// <param name="uploadHost">Where the form is posted.</param>
    /// <param name="uploadDirectory">The key prefix (<c>upload_dir</c>); keys are <c>{upload_dir}/{file name}</c>.</param>
    /// <param name="policy">The base64 policy document.</param>
    /// <param name="signature">The policy's signature.</param>
    /// <param name="accessKeyId">The OSS access key id (<c>oss_access_key_id</c>).</param>
    /// <param name="objectAcl">The <c>x-oss-object-acl</c> value.</param>
    /// <param name="forbidOverwrite">The <c>x-oss-forbid-overwrite</c> value.</param>
    /// <param name="expiresAt">When the policy stops being accepted (issue time + <c>expire_in_seconds</c>).</param>
    /// <param name="maxFileSizeMegabytes">The largest file, in MB (<c>max_file_size_mb</c>), when the service says.</param>
    /// <param name="requestId">The request id of the policy call.</param>
    public DashScopeUploadPolicy(
        string model, Uri uploadHost, string uploadDirectory, string policy, string signature, string accessKeyId, string? objectAcl,
        string? forbidOverwrite, DateTimeOffset expiresAt, int? maxFileSizeMegabytes, string? requestId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(uploadHost);
        Model = model;
        UploadHost = uploadHost;
        UploadDirectory = uploadDirectory;
        Policy = policy;
        Signature = signature;
        AccessKeyId = accessKeyId;
        ObjectAcl = objectAcl;
        ForbidOverwrite = forbidOverwrite;
        ExpiresAt = expiresAt;
        MaxFileSizeMegabytes = maxFileSizeMegabytes;
        RequestId = requestId;
    }

    /// <summary>The model the uploaded files are bound to (they work only in requests for this model).</summary>
    public string Model { get; }

    /// <summary>Where the upload form is posted (<c>upload_host</c>).</summary>
    public Uri UploadHost { get; }

    /// <summary>The key prefix (<c>upload_dir</c>).</summary>
    public string UploadDirectory { get; }

    /// <summary>The base64 policy document (a credential: never logged).</summary>
    public string Policy { get; }

    /// <summary>The policy's signature (a credential: never logged).</summary>
    public string Signature { get; }

    /// <summary>The OSS access key id sent as <c>OSSAccessKeyId</c>.</summary>
    public string AccessKeyId { get; }

    /// <summary>The <c>x-oss-object-acl</c> form value.</summary>
    public string? ObjectAcl { get; }

    /// <summary>The <c>x-oss-forbid-overwrite</c> form value.</summary>
    public string? ForbidOverwrite { get; }

    /// <summary>When the policy expires.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The largest accepted file in MB, when the service said.</summary>
    public int? MaxFileSizeMegabytes { get; }

    /// <summary>The request id of the policy call.</summary>
    public string? RequestId { get; }

    /// <summary>Describes the policy without its credentials.</summary>
    /// <returns>A description safe to log.</returns>
    public override string ToString() =>
        $"DashScopeUploadPolicy {{ Model = {Model}, UploadHost = {UploadHost}, UploadDirectory = {UploadDirectory}, ExpiresAt = {ExpiresAt:O}, Policy = ***, Signature = *** }}";
}

/// <summary>A file in DashScope's temporary storage.</summary>
/// <param name="Url">The <c>oss://{key}</c> URL to pass as an image input (the client then sends
/// <c>X-DashScope-OssResourceResolve: enable</c> by itself).</param>
/// <param name="Model">The model the file is bound to.</param>
/// <param name="ExpiresAt">When the service deletes the file (48 hours after the upload).</param>
public sealed record DashScopeTemporaryFile(string Url, string Model, DateTimeOffset ExpiresAt);
