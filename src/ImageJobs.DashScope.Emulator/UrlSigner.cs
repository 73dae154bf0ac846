using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// Signs result URLs the way OSS links look: <c>{path}?Expires={unix}&amp;OSSAccessKeyId=…&amp;Signature={hmac}</c>.
/// The signature is an HMAC-SHA256 over the path and expiry with a per-emulator secret (kept in the data folder, if any,
/// so URLs handed out before a restart still verify).
/// </summary>
internal sealed class UrlSigner(byte[]? secret = null)
{
    /// <summary>The access key id shown in URLs (not a secret; OSS shows it too).</summary>
    public const string AccessKeyId = "LTAI5tEmulatorDashScope";

    private readonly byte[] _secret = secret ?? RandomNumberGenerator.GetBytes(32);

    /// <summary>The query string (without '?') that signs <paramref name="path"/> until <paramref name="expires"/>.</summary>
    public string Sign(string path, DateTimeOffset expires)
    {
        var unix = expires.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture,
            $"Expires={unix}&OSSAccessKeyId={AccessKeyId}&Signature={Uri.EscapeDataString(Signature(path, unix))}");
    }

    /// <summary>Checks a request for a signed path: null when it is valid, else the OSS-style error code.</summary>
    public string? Check(string path, string? expires, string? signature, DateTimeOffset now)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) || string.IsNullOrEmpty(signature))
        {
            return "AccessDenied";
        }

        var expected = Encoding.ASCII.GetBytes(Signature(path, unix));
        var actual = Encoding.ASCII.GetBytes(signature);
        if (!CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            return "SignatureDoesNotMatch";
        }

        return now.ToUnixTimeSeconds() > unix ? "AccessDenied" : null;
    }

    private string Signature(string path, long unix)
    {
        var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"GET\n{unix}\n{path}"));
        return Convert.ToBase64String(HMACSHA256.HashData(_secret, payload));
    }
}
