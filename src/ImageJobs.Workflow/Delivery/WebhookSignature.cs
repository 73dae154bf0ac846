using System.Security.Cryptography;
using System.Text;

namespace ImageJobs.Workflow.Delivery;

/// <summary>
/// Standard Webhooks signatures (<see href="https://www.standardwebhooks.com/"/>): the signed content is
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c>, HMAC-SHA256 with the secret, sent as
/// <c>webhook-signature: v1,{base64}</c>. A secret in the standard's <c>whsec_{base64}</c> form is base64-decoded;
/// any other secret is used as its UTF-8 bytes.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The message id header (stable across retries, so receivers can de-duplicate).</summary>
    public const string IdHeader = "webhook-id";

    /// <summary>The Unix-seconds timestamp header.</summary>
    public const string TimestampHeader = "webhook-timestamp";

    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "webhook-signature";

    /// <summary>Computes the <c>v1,{base64}</c> signature of one delivery.</summary>
    public static string Sign(string secret, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var prefix = Encoding.UTF8.GetBytes(FormattableString.Invariant($"{messageId}.{timestamp}."));
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyBytes(secret), content));
    }

    /// <summary>
    /// Verifies a delivery as a receiver would: any of the space-separated <c>v1,</c> signatures must match (compared in
    /// constant time), and the timestamp must be within <paramref name="tolerance"/> of <paramref name="now"/>.
    /// </summary>
    public static bool Verify(string secret, string messageId, string timestamp, string signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(signatureHeader);
        if (!long.TryParse(timestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, messageId, seconds, body));
        foreach (var candidate in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate)))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] KeyBytes(string secret) =>
        secret.StartsWith("whsec_", StringComparison.Ordinal)
            ? Convert.FromBase64String(secret["whsec_".Length..])
            : Encoding.UTF8.GetBytes(secret);
}
